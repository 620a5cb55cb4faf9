/**
 * Issue 11's evidence drawn, in a real headless Chromium: error bars (mean ± spread) on points
 * measured more than once, the noise band best ± σ, a keep undone by a failed re-validation,
 * and the tooltip's samples, p-value and guard values; on the page, in the `--svg` export and
 * in the `--png` image. Ledger rows are built here (result.json-free), not read from tsv columns.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExperimentView, overlayGroups, type DashboardData } from '../../src/dashboard/model.js';
import { writePng, PNG_SCALE } from '../../src/dashboard/png-export.js';
import { renderDashboardHtml } from '../../src/dashboard/render.js';
import { renderProgressSvg } from '../../src/dashboard/svg-export.js';
import type { Evidence } from '../../src/decision/types.js';
import type { LedgerRow } from '../../src/ledger/types.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { CHROMIUM, CHROMIUM_AVAILABLE, launchBrowser, type Browser } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;

const ev = (samples: number, mean: number, spread: number | null, pValue: number | null = null): Evidence => ({ samples, mean, spread, pValue });

function rows(specs: Array<Partial<LedgerRow> & Pick<LedgerRow, 'status'>>): LedgerRow[] {
  return specs.map((spec, iteration) => ({
    commit: `c${iteration}c${iteration}c${iteration}c`,
    metric: null,
    description: iteration === 0 ? 'baseline' : `change ${iteration}`,
    iteration,
    timestamp: null,
    durationS: 10,
    reason: iteration === 0 ? 'baseline' : null,
    agent: 'command',
    ...spec,
  }));
}

// Bars on points 0, 1, 2, 5, 6 (point 3 has one sample, point 4 crashed); the best steps
// 1 → 0.9 → 0.85 → back to 0.9 when the re-validation finds keep 5 did not reproduce.
const NOISY = rows([
  { status: 'keep', metric: 1, evidence: ev(3, 1, 0.02) },
  { status: 'discard', metric: 0.99, reason: 'within_noise', evidence: ev(4, 0.99, 0.03, 0.21), guards: { memory_gb: 38.5, val_acc: null } },
  { status: 'keep', metric: 0.9, reason: 'improved', evidence: ev(3, 0.9, 0.02, 0.004), guards: { memory_gb: 39, val_acc: 0.9 } },
  { status: 'discard', metric: 1.05, reason: 'no_improvement', evidence: ev(1, 1.05, null) },
  { status: 'crash', metric: null, reason: 'eval_exit' },
  { status: 'keep', metric: 0.85, reason: 'improved', evidence: ev(2, 0.85, 0.01, 0.03) },
  { status: 'discard', metric: 0.93, reason: 'revalidation_failed', commit: 'c5c5c5c', evidence: ev(3, 0.93, 0.02) },
]);
const BARS = 5;
const BEST_STEPS = 4;
// One sample per row, no state estimate: no bar, no band.
const PLAIN = rows([
  { status: 'keep', metric: 2 },
  { status: 'discard', metric: 2.1, reason: 'no_improvement' },
  { status: 'keep', metric: 1.8, reason: 'improved' },
]);

function dashboard(): DashboardData {
  const status = { state: 'idle' as const, reason: null, wait_until: null, phase: null };
  const config = (metric: string) => ({ metric, direction: 'lower' as const, maxExperiments: null, maxRuntimeMs: null });
  const experiments = [
    // state.json's estimate: σ = √(0.0032 / 8) = 0.02, the spread of the baseline's bar.
    buildExperimentView({ id: 'ml/noisy', scope: 'project', rows: NOISY, config: config('loss'), status, startedAt: null, now: Date.now(), noise: { sumSquares: 0.0032, df: 8 } }),
    buildExperimentView({ id: 'ml/plain', scope: 'project', rows: PLAIN, config: config('time'), status, startedAt: null, now: Date.now() }),
  ];
  return { version: 1, generatedAt: new Date().toISOString(), root: '/p', live: false, experiments, overlays: overlayGroups(experiments) };
}

/** What a chart draws of the evidence; `chart` selects the svg element. */
function drawn(chart: string) {
  const svg = document.querySelector(chart);
  const d = (el: any) => el?.getAttribute('d') ?? '';
  return {
    bars: svg.querySelectorAll('path.err').length,
    bands: svg.querySelectorAll('path.band').length,
    band: d(svg.querySelector('path.band')),
    baselineBar: d(svg.querySelector('path.err[data-i="0"]')),
    baselineDotY: Number(svg.querySelector('circle.dot[data-i="0"]')?.getAttribute('cy')),
    undone: [...svg.querySelectorAll('circle.dot.k.undone')].map((c: any) => Number(c.getAttribute('data-i'))),
    legend: [...svg.querySelectorAll('text.note')].map((t: any) => t.textContent).join(' · '),
  };
}

/** The y extent of an error bar's vertical line, and of the band's first box (M x y H x V y …). */
function extents(got: { band: string; baselineBar: string }) {
  const bar = /^M[\d.]+ ([\d.]+)V([\d.]+)/.exec(got.baselineBar);
  const box = /^M[\d.]+ ([\d.]+)H[\d.]+V([\d.]+)H[\d.]+Z/.exec(got.band);
  expect(bar, got.baselineBar).not.toBeNull();
  expect(box, got.band).not.toBeNull();
  return { bar: [Number(bar?.[1]), Number(bar?.[2])], box: [Number(box?.[1]), Number(box?.[2])] };
}

/** The page's and the export's shared expectations of ml/noisy. */
function expectNoisy(got: ReturnType<typeof drawn>) {
  expect(got.bars).toBe(BARS);
  expect(got.bands).toBe(1);
  expect(got.band.match(/Z/g)).toHaveLength(BEST_STEPS); // a box along each step of the running best
  expect(got.undone).toEqual([5]);
  // The baseline's bar is mean 1 ± 0.02 and the band's first box best 1 ± σ = 0.02: one scale, one height, centred on the dot.
  const { bar, box } = extents(got);
  expect(bar[1]! - bar[0]!).toBeGreaterThan(10);
  expect(Math.abs(bar[1]! - bar[0]! - (box[1]! - box[0]!))).toBeLessThan(0.3);
  expect(Math.abs((bar[0]! + bar[1]!) / 2 - got.baselineDotY)).toBeLessThan(0.2);
}

let browser: Browser;
let out: string;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  out = await makeTempDir('ar-evidence-');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (out) await fs.rm(out, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM_AVAILABLE)('the evidence of noise-aware decisions, drawn', () => {
  it('the page: error bars, the noise band, an undone keep, and a tooltip with samples, mean ± spread, p-value and guards', async () => {
    const p = await browser.page();
    await p.page.setContent(renderDashboardHtml(dashboard()));
    await p.page.waitForSelector('html[data-rendered]');
    const noisy = await p.page.evaluate(drawn, 'section[data-experiment="ml/noisy"] svg.chart');
    expectNoisy(noisy);
    const plain = await p.page.evaluate(drawn, 'section[data-experiment="ml/plain"] svg.chart');
    expect([plain.bars, plain.bands, plain.undone]).toEqual([0, 0, []]);

    const legend = await p.page.evaluate(() => document.querySelector('section[data-experiment="ml/noisy"] .legend').textContent);
    expect(legend).toContain('mean ± spread of repeated samples');
    expect(legend).toContain('noise band: best ± σ (σ = 0.02, estimated over 8 df)');
    expect(legend).toContain('keep undone by a failed re-validation');
    expect(await p.page.evaluate(() => document.querySelector('section[data-experiment="ml/plain"] .legend').textContent)).not.toContain('σ');
    // The best stat follows the re-validation: keep 2 (0.9), not the undone 0.85.
    expect(await p.page.textContent('section[data-experiment="ml/noisy"] [data-stat="best"]')).toContain('0.9 vs 1 · change 2');

    await p.page.hover('section[data-experiment="ml/noisy"] circle.dot[data-i="1"]');
    expect(await p.page.textContent('#tip')).toBe('#1 · discard · 0.99 — change 1\n4 samples · mean 0.99 ± 0.03 · p = 0.21\nguards: memory_gb 38.5 · val_acc not found\nwhy: within_noise');
    await p.page.hover('section[data-experiment="ml/noisy"] circle.dot[data-i="5"]');
    expect(await p.page.textContent('#tip')).toBe('#5 · keep (undone by a re-validation) · 0.85 — change 5\n2 samples · mean 0.85 ± 0.01 · p = 0.03');
    await p.page.hover('section[data-experiment="ml/plain"] circle.dot[data-i="1"]');
    expect(await p.page.textContent('#tip')).toBe('#1 · discard · 2.1 — change 1\nwhy: no_improvement');
    expect(p.errors).toEqual([]);
    await p.page.close();
  });

  it('--svg draws the same bars and band, said in the legend; --png has the band where the SVG puts it', async () => {
    const image = renderProgressSvg(dashboard());
    const file = path.join(out, 'progress.svg');
    await fs.writeFile(file, image.svg);
    const p = await browser.page();
    await p.page.goto(pathToFileURL(file).href);
    const noisy = await p.page.evaluate(drawn, 'svg.chart[data-e="0"]');
    expectNoisy(noisy);
    expect(noisy.legend).toContain('bars: mean ± spread of repeated samples');
    expect(noisy.legend).toContain('band: best ± σ (σ = 0.02, estimated over 8 df)');
    const plain = await p.page.evaluate(drawn, 'svg.chart[data-e="1"]');
    expect([plain.bars, plain.bands]).toEqual([0, 0]);
    expect(plain.legend).not.toContain('band');

    // A point inside the band's first box (a quarter along it, between the baseline and the next
    // point, halfway from its top edge to the best line) and one just above the box, in pixels.
    const probe = await p.page.evaluate(() => {
      const band = document.querySelector('svg.chart[data-e="0"] path.band');
      const m = /^M([\d.]+) ([\d.]+)H([\d.]+)V([\d.]+)/.exec(band.getAttribute('d'));
      const [x0, y0, x1, y1]: number[] = (m ?? []).slice(1).map(Number);
      const ctm = band.getScreenCTM();
      const at = (x: number, y: number) => {
        const pt = band.ownerSVGElement.createSVGPoint();
        pt.x = x;
        pt.y = y;
        const q = pt.matrixTransform(ctm);
        return [q.x, q.y];
      };
      const x = x0! + (x1! - x0!) / 4;
      return { inside: at(x, y0! + (y1! - y0!) / 4), above: at(x, y0! - 6) };
    });
    await p.page.close();

    const png = path.join(out, 'progress.png');
    await writePng(image.svg, image.width, image.height, png, { ...process.env, CHROMIUM_PATH: CHROMIUM });
    const q = await browser.page();
    await q.page.setContent(`<img src="data:image/png;base64,${(await fs.readFile(png)).toString('base64')}">`);
    await q.page.waitForFunction(() => document.querySelector('img').complete);
    const pixels = await q.page.evaluate(
      ({ points, scale }: { points: number[][]; scale: number }) => {
        const img = document.querySelector('img');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return points.map(([x, y]) => [...ctx.getImageData(Math.round(x! * scale), Math.round(y! * scale), 1, 1).data.slice(0, 3)] as number[]);
      },
      { points: [probe.inside, probe.above], scale: PNG_SCALE },
    );
    await q.page.close();
    // The band is a light green (green the largest channel); above it, white or a grey-blue grid line.
    const greenish = ([r, g, b]: number[]) => g! > r! + 5 && g! > b! + 5;
    expect(greenish(pixels[0]!), `inside the band: rgb ${pixels[0]}`).toBe(true);
    expect(greenish(pixels[1]!), `above the band: rgb ${pixels[1]}`).toBe(false);
  });
});
