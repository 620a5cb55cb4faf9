/** `results --all` / `--domain D`: one line per experiment, through the built CLI. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cliEnv } from '../helpers/project.js';
import { saveState, STATE_VERSION, type ExperimentState } from '../../src/experiment/state.js';
import { OVERVIEW_COLUMNS } from '../../src/report/results-overview.js';
import { CONFIG, fixture, makeResultsProject, parseCsv, parseMarkdownTable } from './helpers.js';

const env = cliEnv({ TZ: 'Europe/Paris' }); // the terminal table shows local times, the zone named
let root: string;

beforeAll(async () => {
  root = await makeResultsProject({
    'ml/train': { config: CONFIG.lowerLoss, results: await fixture('autoresearch.tsv') },
    'ml/fresh': { config: CONFIG.lowerLoss },
    'python/skill': { config: CONFIG.pythonSkill, results: await fixture('python-skill.tsv') },
    'text/broken': { config: CONFIG.lowerLoss, results: 'commit\tmetric\tstatus\tdescription\nbad line\nabc1234\t1.000000\tkeep\tbaseline\n' },
  });
  // A halted experiment shows its state (state.json is read through readExperimentStatus).
  await fs.cp(path.join(root, '.autoresearch/ml/train'), path.join(root, '.autoresearch/ml/tripped'), { recursive: true });
  await fs.writeFile(path.join(root, '.autoresearch/ml/tripped/results.tsv'), (await fixture('autoresearch.tsv')).split('\n').slice(0, 4).join('\n') + '\n');
});

const results = (...args: string[]) => runCli(['--path', root, 'results', ...args], { env });

/** What every format must say, typed as json says it. */
const EXPECTED = [
  { experiment: 'ml/fresh', scope: 'project', state: 'new', runs: 0, keeps: 0, discards: 0, crashes: 0, best: null, baseline: null, improvement_pct: null, last_activity: null, error: null },
  { experiment: 'ml/train', scope: 'project', state: 'idle', runs: 8, keeps: 3, discards: 3, crashes: 2, best: 0.89999, baseline: 0.912345, improvement_pct: 1.35, last_activity: '2026-03-08T14:31:00.000Z', error: null },
  { experiment: 'ml/tripped', scope: 'project', state: 'idle', runs: 3, keeps: 2, discards: 0, crashes: 1, best: 0.905, baseline: 0.912345, improvement_pct: 0.81, last_activity: '2026-03-08T14:15:40.500Z', error: null },
  // The seed skill's rows have no timestamps; nan counts as a crash without a metric.
  { experiment: 'python/skill', scope: 'project', state: 'idle', runs: 7, keeps: 3, discards: 1, crashes: 3, best: 7.25, baseline: 10, improvement_pct: 27.5, last_activity: null, error: null },
  { experiment: 'text/broken', scope: 'project', state: 'blocked', runs: 0, keeps: 0, discards: 0, crashes: 0, best: null, baseline: null, improvement_pct: null, last_activity: null, error: expect.stringMatching(/results\.tsv:2: expected 4 tab-separated fields .*`autoresearch results text\/broken --rebuild` regenerates it/) },
];

/** A valid state.json for an experiment of this root (what a run would have left). */
function stateOf(id: string, extra: Partial<ExperimentState>): ExperimentState {
  return {
    version: STATE_VERSION,
    id,
    projectRoot: root,
    worktree: path.join(root, 'worktree'),
    branch: `autoresearch/${id}`,
    lastKept: { commit: '2b3c4d5'.padEnd(40, '0'), metric: 0.905, iteration: 1 },
    consecutiveCrashes: 0,
    setupDone: true,
    halt: null,
    exhausted: {},
    intent: null,
    firstStartedAt: '2026-03-08T14:12:05.000Z',
    updatedAt: '2026-03-08T15:00:00.000Z',
    ...extra,
  };
}

/** csv/markdown cells → the json shape: numbers where json has numbers, '' = null. */
function typed(records: string[][]): Record<string, unknown>[] {
  const [columns, ...rows] = records;
  const numeric = new Set(['runs', 'keeps', 'discards', 'crashes', 'best', 'baseline', 'improvement_pct']);
  return rows.map((cells) => Object.fromEntries((columns ?? []).map((c, i) => [c, cells[i] === '' ? null : numeric.has(c) ? Number(cells[i]) : cells[i]])));
}

describe('results --all / --domain', () => {
  it('json: one typed object per experiment, sorted by id', async () => {
    const r = await results('--all', '--format', 'json');
    expect(r.exitCode).toBe(0);
    const lines = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(lines.map((l) => Object.keys(l))).toEqual(EXPECTED.map(() => [...OVERVIEW_COLUMNS]));
    expect(lines).toEqual(EXPECTED);
  });

  it('csv and markdown read back to what json says', async () => {
    const json = JSON.parse((await results('--all', '--format', 'json')).stdout) as unknown;
    const csv = parseCsv((await results('--all', '--format', 'csv')).stdout + '\n');
    expect(csv[0]).toEqual([...OVERVIEW_COLUMNS]);
    expect(typed(csv)).toEqual(json);
    expect(typed(parseMarkdownTable((await results('--all', '--format', 'markdown')).stdout))).toEqual(json);
  });

  it('the state is readExperimentStatus\'s: a tripped experiment says so', async () => {
    const file = path.join(root, '.autoresearch/ml/tripped/state.json');
    await saveState(file, stateOf('ml/tripped', { halt: { state: 'tripped', reason: '3 consecutive crashes', at: '2026-03-08T15:00:00.000Z' } }), new Date());
    try {
      const r = await results('--domain', 'ml', '--format', 'json');
      const line = (JSON.parse(r.stdout) as { experiment: string; state: string }[]).find((l) => l.experiment === 'ml/tripped');
      expect(line?.state).toBe('tripped');
    } finally {
      await fs.rm(file);
    }
  });

  it('the figures come from the digest in state.json while it describes results.tsv, from the rows once it does not', async () => {
    const dir = path.join(root, '.autoresearch/ml/tripped');
    const ledger = path.join(dir, 'results.tsv');
    const before = await fs.readFile(ledger, 'utf8');
    // Deliberately not the ledger's figures, so that the test sees which source was used.
    const digest = { iterations: 1000, keeps: 400, discards: 500, crashes: 100, best: 0.5, baseline: 1, lastTimestamp: '2026-04-01T00:00:00.000Z', ledgerBytes: (await fs.stat(ledger)).size };
    await saveState(path.join(dir, 'state.json'), stateOf('ml/tripped', { digest }), new Date());
    const line = async () => (JSON.parse((await results('--domain', 'ml', '--format', 'json')).stdout) as Record<string, unknown>[]).find((l) => l.experiment === 'ml/tripped');
    try {
      expect(await line()).toMatchObject({ runs: 1000, keeps: 400, best: 0.5, baseline: 1, improvement_pct: 50, last_activity: '2026-04-01T00:00:00.000Z' });
      await fs.appendFile(ledger, '9b8c7d6\t0.800000\tkeep\tlater\t3\t2026-03-09T00:00:00.000Z\t1.0\timproved\tclaude\t\t\t\n'); // a row written since
      expect(await line()).toMatchObject({ runs: 4, keeps: 3, best: 0.8, baseline: 0.912345, last_activity: '2026-03-09T00:00:00.000Z' });
    } finally {
      await fs.writeFile(ledger, before);
      await fs.rm(path.join(dir, 'state.json'));
    }
  });

  it('--domain D: only that domain; without a selector: every experiment', async () => {
    const ml = JSON.parse((await results('--domain', 'ml', '--format', 'json')).stdout) as { experiment: string }[];
    expect(ml.map((l) => l.experiment)).toEqual(['ml/fresh', 'ml/train', 'ml/tripped']);
    const all = JSON.parse((await results('--format', 'json')).stdout) as { experiment: string }[];
    expect(all.map((l) => l.experiment)).toEqual(EXPECTED.map((l) => l.experiment));
  });

  it('terminal: state, experiments after the baseline, best, improvement (+ = better), last row in local time; problems listed under the table', async () => {
    const r = await results('--all');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^EXPERIMENT +STATE +EXPERIMENTS +BEST +IMPROVEMENT +UPDATED CET$/);
    expect(lines[1]).toMatch(/^ml\/fresh +new +0 +- +- +-$/);
    expect(lines[2]).toMatch(/^ml\/train +idle +7 +0\.89999 +\+1\.35% +03-08 15:31$/);
    expect(lines[4]).toMatch(/^python\/skill +idle +6 +7\.25 +\+27\.50% +-$/);
    expect(lines[5]).toMatch(/^text\/broken +blocked \(!\) +0 +- +- +-$/);
    for (const line of lines.slice(0, lines.indexOf(''))) expect(line.length).toBeLessThanOrEqual(80); // the table; notes follow it in full
    expect(r.stdout).toMatch(/\n\(!\) text\/broken: .*results\.tsv:2: expected 4 tab-separated fields/);
    expect(r.stdout).not.toContain('\x1b');
  });

  it('an unknown domain: exit 1 naming the domains that exist; a malformed one: exit 1', async () => {
    const r = await results('--domain', 'vision');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/--domain vision: expected experiments in it, found none; domains with experiments: ml, python, text/);
    const bad = await results('--domain', 'ML/x');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--domain: expected a domain name/);
  });

  it('no experiments at all: "no experiments", or an empty array', async () => {
    const empty = await makeResultsProject({});
    expect((await runCli(['--path', empty, 'results'], { env })).stdout).toBe('no experiments');
    expect((await runCli(['--path', empty, 'results', '--all', '--format', 'json'], { env })).stdout).toBe('[]');
  });
});

describe('results (overview) after a reset and a failed revalidation', () => {
  it('EXPERIMENTS counts what status counts: neither the reset row nor the revalidation row is an experiment', async () => {
    const HEADER = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\tdetail\tsamples\tmean\tspread\tp_value\n';
    const row = (fields: string) => `${fields}\t\t\t\t\t\t\t\t\n`;
    const ledger =
      HEADER +
      row('a000000\t10.000000\tkeep\tbaseline\t0\t2026-03-08T10:00:00.000Z\t1.0\tbaseline\tcommand') +
      row('a000001\t9.000000\tkeep\tnine\t1\t2026-03-08T10:01:00.000Z\t1.0\timproved\tcommand') +
      row('a000002\t7.000000\tkeep\tlucky\t2\t2026-03-08T10:02:00.000Z\t1.0\timproved\tcommand') +
      row('a000002\t9.000000\tdiscard\trevalidation: keep #2 did not reproduce\t3\t2026-03-08T10:03:00.000Z\t1.0\trevalidation_failed\t') +
      row('a000004\t8.500000\tdiscard\tworse\t4\t2026-03-08T10:04:00.000Z\t1.0\tno_improvement\tcommand') +
      row('a000000\t10.000000\tkeep\treset to iteration 0 (undoes keep 1)\t5\t2026-03-08T10:05:00.000Z\t0.0\treset\t');
    const dir = await makeResultsProject({ 'ml/revalidated': { config: CONFIG.lowerLoss, results: ledger } });
    const status = await runCli(['--path', dir, 'status'], { env });
    expect(status.stdout.split('\n')[1]).toMatch(/^ml\/revalidated +idle +3 +2 +1 +0 +10$/);
    const overview = await runCli(['--path', dir, 'results'], { env });
    expect(overview.exitCode).toBe(0);
    expect(overview.stdout.split('\n')[1]).toMatch(/^ml\/revalidated +idle +3 +10 +/);
  });
});
