/**
 * `dashboard --svg FILE` / `--png FILE` from the real CLI on the fixture ledgers: the files are
 * opened in a real headless Chromium and must show the charts (SVG: one chart per experiment
 * with its points, the overlay; PNG: a valid image of the right size). Without a Chromium on
 * PATH, --png fails saying what is missing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG_SCALE } from '../../src/dashboard/png-export.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { CHROMIUM, CHROMIUM_AVAILABLE, launchBrowser, type Browser } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ledgers-dashboard');

let browser: Browser;
let root: string;
let out: string;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  root = await makeTempDir('ar-export-');
  out = await makeTempDir('ar-export-out-');
  await fs.cp(FIXTURES, path.join(root, '.autoresearch'), { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const dir of [root, out]) if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Chart id → its dots, read from the SVG as Chromium parsed it. */
async function chartsIn(file: string) {
  const p = await browser.page();
  await p.page.goto(pathToFileURL(file).href);
  const got = await p.page.evaluate(() => ({
    root: document.documentElement.tagName,
    width: Number(document.documentElement.getAttribute('width')),
    height: Number(document.documentElement.getAttribute('height')),
    charts: [...document.querySelectorAll('svg.chart[data-e]')].map((svg: any) => ({
      heading: svg.querySelector('text.heading')?.textContent ?? '',
      dots: svg.querySelectorAll('circle.dot').length,
      gaps: svg.querySelectorAll('g.gap').length,
      // The legend, in as many lines as it needs (broken between its items).
      legend: [...svg.querySelectorAll('text.note')].map((t: any) => t.textContent).join(' · '),
      legendLines: svg.querySelectorAll('text.note').length,
    })),
    overlays: [...document.querySelectorAll('svg.chart[data-overlay]')].map((svg: any) => [...svg.querySelectorAll('path.series')].map((s: any) => s.getAttribute('data-series'))),
    // Rendered, not just parsed: the dots have a size on screen.
    drawn: [...document.querySelectorAll('circle.dot')].filter((c: any) => c.getBoundingClientRect().width > 0).length,
  }));
  expect(p.errors).toEqual([]);
  await p.page.close();
  return got;
}

describe.skipIf(!CHROMIUM_AVAILABLE)('dashboard --svg / --png', () => {
  it('--svg writes every chart with a result into one SVG that Chromium draws: the points, the gaps, the overlay; no page', async () => {
    const file = path.join(out, 'progress.svg');
    const r = await runCli(['--path', root, 'dashboard', '--svg', file], { env: cliEnv() });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(file);
    await expect(fs.access(path.join(root, '.autoresearch', 'dashboard.html'))).rejects.toThrow(); // --svg alone writes no page
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const got = await chartsIn(file);
    expect(got.root.toLowerCase()).toBe('svg');
    // content/new-idea has no row: no chart. The fixture's points, as on the page.
    expect(got.charts.map((c) => [c.heading.split(' · ')[0], c.dots, c.gaps])).toEqual([
      ['engineering/train-speed', 15, 1],
      ['engineering/train-speed-b', 6, 2],
      ['prompts/headline-ctr', 8, 0],
    ]);
    expect(got.charts[0]?.heading).toBe('engineering/train-speed · val_bpb (lower is better) · 15 experiments after the baseline · best +2.32%');
    expect(got.charts[1]?.legend).toContain('14 rows not evaluated, not plotted (12 no_change, 1 agent_exit, 1 scope_violation)');
    expect(got.charts[1]?.legend).toContain('dashed ring: suspicious keep');
    expect(got.charts[1]?.legendLines).toBe(2);
    expect(got.overlays).toEqual([['engineering/train-speed', 'engineering/train-speed-b']]);
    expect(got.drawn).toBe(15 + 6 + 8 + 6 + 3); // the overlay draws the keeps again
    expect(got.height).toBeGreaterThan(3 * 400);
  });

  it('--svg with experiment ids draws only those; an unknown id is an error naming the ones that exist', async () => {
    const file = path.join(out, 'one.svg');
    const r = await runCli(['--path', root, 'dashboard', '--svg', file, 'prompts/headline-ctr'], { env: cliEnv() });
    expect(r.exitCode).toBe(0);
    const got = await chartsIn(file);
    expect(got.charts.map((c) => c.dots)).toEqual([8]);
    expect(got.overlays).toEqual([]);
    expect(got.width).toBe(960);

    const bad = await runCli(['--path', root, 'dashboard', '--svg', path.join(out, 'bad.svg'), 'prompts/nope'], { env: cliEnv() });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('no experiment prompts/nope in');
    expect(bad.stderr).toContain('expected one of: content/new-idea, engineering/train-speed, engineering/train-speed-b, prompts/headline-ctr');
    await expect(fs.access(path.join(out, 'bad.svg'))).rejects.toThrow();
  });

  it('--png writes a PNG drawn by the Chromium on PATH, at twice the SVG size; Chromium opens it', async () => {
    const svgFile = path.join(out, 'size.svg');
    const file = path.join(out, 'progress.png');
    // The Chromium the tests use, found on PATH under one of the names --png looks for.
    const bin = await makeTempDir('ar-bin-');
    await fs.symlink(CHROMIUM, path.join(bin, 'chromium'));
    const r = await runCli(['--path', root, 'dashboard', '--png', file, '--svg', svgFile, 'engineering/train-speed'], { env: cliEnv({ PATH: `${bin}:${process.env.PATH ?? ''}` }), timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([svgFile, file]);
    const png = await fs.readFile(file);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    const svgSize = await chartsIn(svgFile);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([svgSize.width * PNG_SCALE, svgSize.height * PNG_SCALE]);
    expect(png.length).toBeGreaterThan(20_000); // a chart, not a blank page

    const p = await browser.page();
    await p.page.setContent(`<img src="data:image/png;base64,${png.toString('base64')}">`);
    await p.page.waitForFunction(() => document.querySelector('img').complete);
    expect(await p.page.evaluate(() => [document.querySelector('img').naturalWidth, document.querySelector('img').naturalHeight])).toEqual([
      svgSize.width * PNG_SCALE,
      svgSize.height * PNG_SCALE,
    ]);
    await p.page.close();
    await fs.rm(bin, { recursive: true, force: true });
  });

  it('--png without a Chromium on PATH fails saying what it looked for and that --svg needs none', async () => {
    const bin = await makeTempDir('ar-bin-');
    await fs.symlink(process.execPath, path.join(bin, 'node')); // the CLI itself, and nothing else
    const file = path.join(out, 'none.png');
    const r = await runCli(['--path', root, 'dashboard', '--png', file], { env: cliEnv({ PATH: bin }) });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('--png needs a Chromium or Chrome to draw the image, and none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH');
    expect(r.stderr).toContain('--svg FILE');
    await expect(fs.access(file)).rejects.toThrow();

    const named = await runCli(['--path', root, 'dashboard', '--png', file], { env: cliEnv({ PATH: bin, CHROMIUM_PATH: path.join(bin, 'no-such-browser') }) });
    expect(named.exitCode).toBe(1);
    expect(named.stderr).toContain(`CHROMIUM_PATH=${path.join(bin, 'no-such-browser')} is not an executable file`);
    await fs.rm(bin, { recursive: true, force: true });
  });
});
