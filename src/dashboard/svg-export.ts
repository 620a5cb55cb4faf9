/**
 * The progress charts as one standalone SVG file (`dashboard --svg`), drawn by the page's own
 * chart code (chart-script.ts) run in Node: what the file shows is what the page shows. One
 * chart per experiment with results, stacked, then one overlay per metric that several
 * experiments share; each with its title and legend inside the image.
 */
import vm from 'node:vm';
import { AutoresearchError } from '../core/errors.js';
import { CHART_CSS, CHART_SCRIPT } from './chart-script.js';
import type { DashboardData, ExperimentView, Overlay } from './model.js';

interface ChartFunctions {
  chart(e: ExperimentView, index: number, opts: StandaloneOptions): string;
  overlayChart(group: Overlay, exps: Array<[number, ExperimentView]>, opts: StandaloneOptions): string;
}

interface StandaloneOptions {
  standalone: true;
  css: string;
  xmlns: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

let compiled: ChartFunctions | null = null;

/** The chart script's functions; it is our own constant, evaluated once, in a context of its own. */
function chartFunctions(): ChartFunctions {
  compiled ??= vm.runInNewContext(`(function () {${CHART_SCRIPT}\nreturn { chart: chart, overlayChart: overlayChart };\n})()`, {}, { filename: 'chart-script.js' }) as ChartFunctions;
  return compiled;
}

/** Space between two stacked charts. */
const GAP = 16;

export interface SvgImage {
  svg: string;
  width: number;
  height: number;
  /** How many charts it holds. */
  charts: number;
}

/**
 * `ids`: only these experiments (as given on the command line); empty: every experiment that
 * has a row. Throws when nothing is left to draw, saying what exists.
 */
export function renderProgressSvg(data: DashboardData, ids: readonly string[] = []): SvgImage {
  const { chart, overlayChart } = chartFunctions();
  const opts: StandaloneOptions = { standalone: true, css: CHART_CSS, xmlns: SVG_NS };
  const unknown = ids.filter((id) => !data.experiments.some((e) => e.id === id));
  if (unknown.length > 0) {
    throw new AutoresearchError('EXPERIMENT_NOT_FOUND', `no experiment ${unknown.join(', ')} in ${data.root}; expected one of: ${data.experiments.map((e) => e.id).join(', ') || '(none)'}`);
  }
  const chosen = data.experiments.map((e, i) => [i, e] as [number, ExperimentView]).filter(([, e]) => (ids.length > 0 ? ids.includes(e.id) : e.iterations > 0));
  if (chosen.length === 0) throw new AutoresearchError('BAD_INPUT', `nothing to draw: no experiment in ${data.root} has a result yet`);
  const parts = chosen.map(([i, e]) => chart(e, i, opts));
  for (const group of data.overlays) {
    const exps = chosen.filter(([, e]) => group.ids.includes(e.id));
    if (exps.length >= 2) parts.push(overlayChart(group, exps, opts));
  }
  let y = 0;
  let width = 0;
  const placed = parts.map((svg) => {
    const w = Number(/ width="(\d+)"/.exec(svg)?.[1] ?? 0);
    const h = Number(/ height="(\d+)"/.exec(svg)?.[1] ?? 0);
    const at = y;
    y += h + GAP;
    width = Math.max(width, w);
    return svg.replace('<svg ', `<svg y="${at}" `);
  });
  const height = y - GAP;
  if (placed.length === 1) return { svg: `<?xml version="1.0" encoding="UTF-8"?>\n${parts[0]}\n`, width, height, charts: 1 };
  const svg =
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="#f6f8fa"/>${placed.join('')}</svg>\n`;
  return { svg, width, height, charts: placed.length };
}
