/**
 * What must hold after any kill, read straight from the files (an independent parser, not
 * the product's): the ledger, the finished-evaluations file, state.json and the branch.
 * Each check returns a list of problems; [] means it holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface Row {
  line: number;
  commit: string;
  metric: number | null;
  status: string;
  description: string;
  iteration: number;
  reason: string;
}

export interface LedgerSnapshot {
  rows: Row[];
  /** The file ends without a newline: a torn last line the next start must repair. */
  torn: boolean;
  problems: string[];
}

const COLUMNS = ['commit', 'metric', 'status', 'description', 'iteration', 'timestamp', 'duration_s', 'reason'];
/** Reasons of rows whose verdict came from a finished evaluation. */
const EVALUATED = new Set(['baseline', 'improved', 'no_improvement', 'eval_exit', 'eval_signal', 'eval_timeout', 'metric_missing', 'metric_invalid']);

export function readLedger(file: string): LedgerSnapshot {
  const problems: string[] = [];
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { rows: [], torn: false, problems };
  }
  if (text === '') return { rows: [], torn: false, problems };
  const torn = !text.endsWith('\n');
  const lines = text.split('\n');
  lines.pop(); // after the last \n: '' or the torn tail
  const header = (lines[0] ?? '').split('\t');
  COLUMNS.forEach((name, i) => {
    if (header[i] !== name) problems.push(`${file}:1: expected column ${i + 1} ${name}, found ${header[i]}`);
  });
  const rows: Row[] = [];
  lines.slice(1).forEach((text, i) => {
    const line = i + 2;
    const f = text.split('\t');
    if (f.length !== header.length) problems.push(`${file}:${line}: expected ${header.length} fields, found ${f.length}: ${text}`);
    const [commit = '', metric = '', status = '', description = '', iteration = ''] = f;
    const reason = f[7] ?? '';
    if (!/^[0-9a-f]{7,}$/.test(commit)) problems.push(`${file}:${line}: bad commit ${commit}`);
    if (!(metric === 'N/A' || /^-?\d+\.\d{6}$/.test(metric))) problems.push(`${file}:${line}: bad metric ${metric}`);
    if (!['keep', 'discard', 'crash'].includes(status)) problems.push(`${file}:${line}: bad status ${status}`);
    if (!/^\d+$/.test(iteration)) problems.push(`${file}:${line}: bad iteration ${iteration}`);
    rows.push({ line, commit, metric: metric === 'N/A' ? null : Number(metric), status, description, iteration: Number(iteration), reason });
  });
  return { rows, torn, problems };
}

/** iteration → HEADs of its finished evaluations ("<iteration> <HEAD> <incarnation>" lines). */
export function readFinished(file: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [iteration, head] = line.split(' ');
    if (iteration === undefined || head === undefined) continue;
    out.set(Number(iteration), [...(out.get(Number(iteration)) ?? []), head]);
  }
  return out;
}

/**
 * Iterations unique and strictly increasing; every evaluated row has a finished evaluation
 * of its commit; keep iff strictly better than the best so far (lower is better), so the
 * best never regresses.
 */
export function checkLedger(ledger: LedgerSnapshot, finished: Map<number, string[]>): string[] {
  const problems = [...ledger.problems];
  let previous = -1;
  let best: number | null = null;
  for (const row of ledger.rows) {
    if (row.iteration <= previous) problems.push(`line ${row.line}: iteration ${row.iteration} after ${previous} (duplicate or out of order)`);
    previous = row.iteration;
    if (EVALUATED.has(row.reason) && !(finished.get(row.iteration) ?? []).some((head) => head.startsWith(row.commit))) {
      problems.push(`line ${row.line}: row for iteration ${row.iteration} (${row.status} ${row.reason}, ${row.commit}) has no finished evaluation`);
    }
    if (row.status === 'keep') {
      if (row.metric === null) problems.push(`line ${row.line}: keep without a metric`);
      else if (best !== null && !(row.metric < best)) problems.push(`line ${row.line}: keep ${row.metric} does not beat the best ${best}`);
      if (row.metric !== null) best = row.metric;
    }
    if (row.reason === 'no_improvement' && (best === null || row.metric === null || row.metric < best)) {
      problems.push(`line ${row.line}: discarded ${row.metric} although the best was ${best}`);
    }
  }
  return problems;
}

export interface StateSnapshot {
  lastKept: { commit: string; metric: number | null; iteration: number | null };
  intent: { phase: string; iteration: number; candidate?: string; child: { pid: number; pgid: number; startTime: number | null } | null } | null;
  worktree: string;
}

export function readState(expDir: string): StateSnapshot | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(expDir, 'state.json'), 'utf8')) as StateSnapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function keptIs(kept: StateSnapshot['lastKept'], row: Row | undefined): boolean {
  return row === undefined ? kept.metric === null : kept.iteration === row.iteration && kept.commit.startsWith(row.commit) && kept.metric === row.metric;
}

/**
 * With the CLI dead: state.json's last kept commit is the ledger's last keep, except in the
 * window between a keep row and its state update (then the intent names that row).
 */
export function checkStateAgainstLedger(state: StateSnapshot | null, ledger: LedgerSnapshot): string[] {
  if (state === null) return [];
  const keeps = ledger.rows.filter((r) => r.status === 'keep');
  const last = ledger.rows.at(-1);
  const next = last === undefined ? 0 : last.iteration + 1;
  const problems: string[] = [];
  if (state.intent !== null && state.intent.iteration !== next && state.intent.iteration !== last?.iteration) {
    problems.push(`intent for iteration ${state.intent.iteration}, but the ledger's next iteration is ${next}`);
  }
  const consistent = keptIs(state.lastKept, keeps.at(-1));
  const inWindow = state.intent !== null && last !== undefined && state.intent.iteration === last.iteration && (last.status === 'keep' ? keptIs(state.lastKept, keeps.at(-2)) : consistent);
  if (!consistent && !inWindow) {
    problems.push(`state.json lastKept ${JSON.stringify(state.lastKept)} is not the ledger's last keep ${JSON.stringify(keeps.at(-1) ?? null)} (intent ${JSON.stringify(state.intent)})`);
  }
  return problems;
}

/** `git log -1 --format='%H %P' <ref>`: the commit and its parents, or null if the ref does not exist. */
export async function commitAndParents(repo: string, ref: string): Promise<string[] | null> {
  const r = await execa('git', ['log', '-1', '--format=%H %P', ref, '--'], { cwd: repo, reject: false });
  return r.exitCode === 0 ? String(r.stdout).trim().split(' ') : null;
}

/** With the CLI dead: the branch is at the last kept commit, or one candidate commit on top of it. */
export async function checkBranch(root: string, branch: string, state: StateSnapshot | null): Promise<string[]> {
  if (state === null) return [];
  const tip = await commitAndParents(root, `refs/heads/${branch}`);
  if (tip === null) return [];
  const [commit, parent] = tip;
  if (commit === state.lastKept.commit || parent === state.lastKept.commit) return [];
  return [`branch ${branch} at ${commit} (parent ${parent}) is neither the last kept commit ${state.lastKept.commit} nor a candidate on it`];
}

/** Every `*.lock` file under `dir`. */
export function lockFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...lockFiles(full));
    else if (entry.name.endsWith('.lock')) out.push(full);
  }
  return out;
}
