#!/usr/bin/env node
/**
 * The dashboard at scale: one experiment with a 10,000-row ledger (and a small second one).
 *   generation  ledger files → DashboardData → HTML (collectDashboard + renderDashboardHtml
 *               from dist/), in this process; and `autoresearch dashboard` as a whole (a CLI run)
 *   render      Debian's headless Chromium (playwright-core) opens the file: time until the
 *               script has drawn every chart and the browser has painted the frame after it
 * Medians of --repeat runs are printed, with the targets (render < 1 s).
 *
 * Usage: npm run build && node bench/dashboard.mjs [--points N] [--repeat R] [--keep] [--strict]
 *   --points  rows in the big ledger (default 10000)
 *   --repeat  runs of each measurement (default 5)
 *   --keep    leave the temp project in place (its path is printed)
 *   --strict  exit 2 when a target is missed
 * CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flag, positiveInt } from './args.mjs';

const TARGET_RENDER_MS = 1000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const POINTS = positiveInt('--points', 10_000);
const REPEAT = positiveInt('--repeat', 5);

const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
if (!fs.existsSync(path.join(ROOT, 'dist', 'dashboard', 'render.js'))) {
  console.error('bench: dist/ is missing or stale: run `npm run build` first');
  process.exit(1);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`bench: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}
const { collectDashboard } = await import(dist('dashboard/collect.js'));
const { renderDashboardHtml } = await import(dist('dashboard/render.js'));
const { chromium } = await import('playwright-core');

// ---------------------------------------------------------------- the project

const HEADER = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\n';

/** A deterministic ledger shaped like a long overnight run: rare keeps, some crashes, lower is better. */
function ledger(n, seed) {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  let best = 1.0;
  let t = Date.parse('2026-03-01T00:00:00Z');
  let text = HEADER;
  for (let i = 0; i < n; i++) {
    const duration = 240 + random() * 120;
    t += duration * 1000;
    let metric;
    let status;
    let reason;
    let description;
    const r = random();
    if (i === 0) [metric, status, reason, description] = [best, 'keep', 'baseline', 'baseline'];
    else if (r < 0.05) [metric, status, reason, description] = [null, 'crash', 'eval_exit', `try idea ${i}: crashed with an out-of-memory error`];
    else if (r < 0.08) {
      best -= best * random() * 0.004;
      [metric, status, reason, description] = [best, 'keep', 'improved', `idea ${i}: tune the learning-rate schedule and warmup length`];
    } else [metric, status, reason, description] = [best + random() * 0.02, 'discard', 'no_improvement', `idea ${i}: change the architecture a little`];
    const cost = i === 0 ? '' : (0.1 + random() * 0.3).toFixed(6);
    text += [
      (0x1000000 + i).toString(16).slice(-7),
      metric === null ? 'N/A' : metric.toFixed(6),
      status,
      description,
      i,
      new Date(t).toISOString(),
      duration.toFixed(1),
      reason,
      i === 0 ? 'none' : 'claude',
      cost,
      cost === '' ? '' : '12000',
      cost === '' ? '' : '3000',
    ].join('\t');
    text += '\n';
  }
  return text;
}

const project = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-dashboard-'));
const home = path.join(project, 'home'); // no user-scope experiments from this machine
function experiment(id, config, rows) {
  const dir = path.join(project, '.autoresearch', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.cfg'), config);
  fs.writeFileSync(path.join(dir, 'results.tsv'), rows);
}
experiment('engineering/long-run', 'target: train.py\nevaluate_cmd: python train.py\nmetric: val_bpb\nmetric_direction: lower\nmax_experiments: 20000\n', ledger(POINTS, 42));
experiment('prompts/small', 'target: p.txt\nevaluate_cmd: sh score.sh\nmetric: score\nmetric_direction: lower\n', ledger(50, 7));
const ledgerBytes = fs.statSync(path.join(project, '.autoresearch', 'engineering', 'long-run', 'results.tsv')).size;

// ---------------------------------------------------------------- measurements

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;
const env = { ...process.env, AUTORESEARCH_HOME: home };

// Generation in this process (warm, as in the daemon): read + parse + model + HTML.
const generation = [];
let html = '';
for (let i = 0; i < REPEAT + 1; i++) {
  const t0 = performance.now();
  const data = await collectDashboard(project, { env });
  html = renderDashboardHtml(data);
  if (i > 0) generation.push(performance.now() - t0); // the first run warms the JIT and the disk cache
}
const file = path.join(project, 'dashboard.html');
fs.writeFileSync(file, html);

// The whole command, cold: node start, imports, generation, durable write.
const cli = [];
for (let i = 0; i < REPEAT; i++) {
  const t0 = performance.now();
  const r = spawnSync('node', [path.join(ROOT, 'dist', 'cli', 'main.js'), '--path', project, 'dashboard'], { env, encoding: 'utf8' });
  cli.push(performance.now() - t0);
  if (r.status !== 0) {
    console.error(`bench: autoresearch dashboard failed (exit ${r.status}):\n${r.stderr}`);
    process.exit(1);
  }
}

// Rendering in Chromium: a fresh page per run, the browser already started.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
const render = [];
const scriptOnly = [];
let dots = 0;
const errors = [];
try {
  for (let i = 0; i < REPEAT + 1; i++) {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('html[data-rendered]');
    // Two animation frames: the one with the charts has been painted.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const total = performance.now() - t0;
    // In the page: navigation start → the end of the script's first render.
    const inPage = Number(await page.getAttribute('html', 'data-rendered'));
    dots = await page.locator('section[data-experiment="engineering/long-run"] circle.dot').count();
    await page.close();
    if (i === 0) continue; // the first page pays for the browser's own warm-up
    render.push(total);
    scriptOnly.push(inPage);
  }
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

const renderMs = median(render);
const ok = renderMs < TARGET_RENDER_MS && dots === POINTS && errors.length === 0;
console.log(`dashboard bench: ${POINTS} points (+50 in a second experiment), ledger ${(ledgerBytes / 1e6).toFixed(2)} MB, page ${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB, median of ${REPEAT}`);
console.log(`  generation (collect + render HTML, warm) ${ms(median(generation))}`);
console.log(`  autoresearch dashboard (whole CLI run)   ${ms(median(cli))}`);
console.log(`  Chromium: open → charts painted          ${ms(renderMs)}   target < ${TARGET_RENDER_MS} ms ${renderMs < TARGET_RENDER_MS ? 'ok' : 'MISSED'}`);
console.log(`  Chromium: navigation → script rendered   ${ms(median(scriptOnly))}`);
console.log(`  dots drawn ${dots} of ${POINTS}${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
if (flag('--keep')) console.log(`  kept: ${project}`);
else fs.rmSync(project, { recursive: true, force: true });
if (dots !== POINTS || errors.length > 0) process.exit(1);
if (!ok && flag('--strict')) process.exit(2);
