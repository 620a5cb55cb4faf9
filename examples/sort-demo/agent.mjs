#!/usr/bin/env node
/**
 * A scripted stand-in for an LLM agent, so the demo runs anywhere, offline and for free.
 *
 * On iteration N (AUTORESEARCH_ITERATION, 1-based) it applies step N of STEPS below to the
 * worktree (AUTORESEARCH_WORKTREE) and commits it, like a real agent would. The script
 * exercises every outcome of the loop: keep, discard (worse, tie, out of scope, no change)
 * and crash (broken code, wrong result). After the last step it changes nothing.
 *
 * It reads the prompt from stdin (as the loop sends it) but only reports its size.
 * check-steps.mjs verifies that each step really scores as `expect` says.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const INSERTION = `/**
 * Insertion sort: each item moves left only as far as it needs to, so sorted prefixes
 * cost one comparison per item.
 */
export function sort(items, compare) {
  const a = items.slice();
  for (let i = 1; i < a.length; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && compare(a[j], x) > 0) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}
`;

const QUICKSORT_UNFINISHED = `/** Quicksort with a median-of-three pivot. */
export function sort(items, compare) {
  const a = items.slice();
  quicksort(a, 0, a.length - 1, compare);
  return a;
}

function quicksort(a, lo, hi, compare) {
  if (lo >= hi) return;
  const p = partition(a, lo, hi, compare;
  quicksort(a, lo, p - 1, compare);
  quicksort(a, p + 1, hi, compare);
}
`;

const SELECTION = `/** Selection sort: at most one swap per position. */
export function sort(items, compare) {
  const a = items.slice();
  for (let i = 0; i < a.length - 1; i++) {
    let min = i;
    for (let j = i + 1; j < a.length; j++) {
      if (compare(a[j], a[min]) < 0) min = j;
    }
    [a[i], a[min]] = [a[min], a[i]];
  }
  return a;
}
`;

const BINARY_INSERTION = `/**
 * Binary insertion sort: find each item's slot by bisection (log2 i comparisons) instead of
 * scanning; moving items costs no comparisons.
 */
export function sort(items, compare) {
  const a = items.slice();
  for (let i = 1; i < a.length; i++) {
    const x = a[i];
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(a[mid], x) > 0) hi = mid;
      else lo = mid + 1;
    }
    a.copyWithin(lo + 1, lo, i);
    a[lo] = x;
  }
  return a;
}
`;

const NATURAL_MERGE = `/**
 * Natural merge sort: split the input into the sorted runs it already has (descending runs
 * are reversed, runs shorter than MIN_RUN are extended by binary insertion), then merge
 * neighbouring runs pairwise, skipping merges whose halves are already in order.
 */
const MIN_RUN = 8;

export function sort(items, compare) {
  const a = items.slice();
  const n = a.length;
  let runs = [];
  let start = 0;
  while (start < n) {
    let end = start + 1;
    if (end < n) {
      if (compare(a[start], a[end]) > 0) {
        while (end + 1 < n && compare(a[end], a[end + 1]) > 0) end++;
        reverse(a, start, end);
      } else {
        while (end + 1 < n && compare(a[end], a[end + 1]) <= 0) end++;
      }
      end++;
    }
    const stop = Math.min(n, Math.max(end, start + MIN_RUN));
    for (let i = end; i < stop; i++) insert(a, start, i, compare);
    runs.push([start, stop]);
    start = stop;
  }
  while (runs.length > 1) {
    const next = [];
    for (let k = 0; k + 1 < runs.length; k += 2) {
      merge(a, runs[k][0], runs[k][1], runs[k + 1][1], compare);
      next.push([runs[k][0], runs[k + 1][1]]);
    }
    if (runs.length % 2 === 1) next.push(runs[runs.length - 1]);
    runs = next;
  }
  return a;
}

function reverse(a, i, j) {
  for (; i < j; i++, j--) [a[i], a[j]] = [a[j], a[i]];
}

/** Binary insertion of a[i] into the sorted slice a[lo..i). */
function insert(a, lo, i, compare) {
  const x = a[i];
  let hi = i;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(a[mid], x) > 0) hi = mid;
    else lo = mid + 1;
  }
  a.copyWithin(lo + 1, lo, i);
  a[lo] = x;
}

/** Merges the sorted slices a[lo..mid) and a[mid..hi). */
function merge(a, lo, mid, hi, compare) {
  if (compare(a[mid - 1], a[mid]) <= 0) return;
  const left = a.slice(lo, mid);
  let i = 0;
  let j = mid;
  let k = lo;
  while (i < left.length && j < hi) a[k++] = compare(left[i], a[j]) <= 0 ? left[i++] : a[j++];
  while (i < left.length) a[k++] = left[i++];
}
`;

const NATURAL_MERGE_TIDY = `/**
 * Natural merge sort (see findRuns and mergePass): the same algorithm and the same
 * comparisons as before, split into named helpers.
 */
const MIN_RUN = 8;

export function sort(items, compare) {
  const a = items.slice();
  let runs = findRuns(a, compare);
  while (runs.length > 1) runs = mergePass(a, runs, compare);
  return a;
}

/** Splits a into sorted runs [start, end): descending runs reversed, short runs extended. */
function findRuns(a, compare) {
  const runs = [];
  for (let start = 0; start < a.length; ) {
    const end = runEnd(a, start, compare);
    const stop = Math.min(a.length, Math.max(end, start + MIN_RUN));
    for (let i = end; i < stop; i++) insert(a, start, i, compare);
    runs.push([start, stop]);
    start = stop;
  }
  return runs;
}

function runEnd(a, start, compare) {
  let end = start + 1;
  if (end >= a.length) return end;
  if (compare(a[start], a[end]) > 0) {
    while (end + 1 < a.length && compare(a[end], a[end + 1]) > 0) end++;
    a.splice(start, end - start + 1, ...a.slice(start, end + 1).reverse());
  } else {
    while (end + 1 < a.length && compare(a[end], a[end + 1]) <= 0) end++;
  }
  return end + 1;
}

/** Merges neighbouring runs pairwise; an odd run out is carried to the next pass. */
function mergePass(a, runs, compare) {
  const merged = [];
  for (let k = 0; k < runs.length; k += 2) {
    const [left, right] = [runs[k], runs[k + 1]];
    if (!right) {
      merged.push(left);
      continue;
    }
    merge(a, left[0], left[1], right[1], compare);
    merged.push([left[0], right[1]]);
  }
  return merged;
}

/** Binary insertion of a[i] into the sorted slice a[lo..i). */
function insert(a, lo, i, compare) {
  const x = a[i];
  let hi = i;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(a[mid], x) > 0) hi = mid;
    else lo = mid + 1;
  }
  a.copyWithin(lo + 1, lo, i);
  a[lo] = x;
}

/** Merges the sorted slices a[lo..mid) and a[mid..hi); nothing to do if already in order. */
function merge(a, lo, mid, hi, compare) {
  if (compare(a[mid - 1], a[mid]) <= 0) return;
  const left = a.slice(lo, mid);
  let [i, j, k] = [0, mid, lo];
  while (i < left.length && j < hi) a[k++] = compare(left[i], a[j]) <= 0 ? left[i++] : a[j++];
  while (i < left.length) a[k++] = left[i++];
}
`;

/** Replaces `from` with `to` in a file's text; throws if `from` is missing (the file is not what this step expects). */
const replace = (from, to) => (text) => {
  if (!text.includes(from)) throw new Error(`expected to find ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

/**
 * The script. `expect` is the outcome the loop should record; `base` is the step whose
 * sort.mjs the worktree should hold when this step starts (0 = the unmodified baseline),
 * i.e. the last kept one: a mismatch means the loop did not roll back as it should.
 */
export const STEPS = [
  { expect: 'keep', base: 0, file: 'sort.mjs', content: INSERTION, message: 'insertion sort: stop scanning once the item is in place' },
  { expect: 'crash', base: 1, file: 'sort.mjs', content: QUICKSORT_UNFINISHED, message: 'quicksort with a median-of-three pivot' },
  { expect: 'discard', base: 1, file: 'sort.mjs', content: SELECTION, message: 'selection sort: one swap per position' },
  { expect: 'keep', base: 1, file: 'sort.mjs', content: BINARY_INSERTION, message: 'binary insertion sort: find the slot by bisection' },
  // Editing the evaluator is outside the scope (target: sort.mjs): discarded without evaluation.
  { expect: 'scope_violation', base: 4, file: 'evaluate.mjs', edit: replace('count++;', 'count += 0.5;'), message: 'evaluate.mjs: count each comparison as half' },
  // Left uncommitted on purpose: the loop commits leftovers for the agent.
  { expect: 'keep', base: 4, file: 'sort.mjs', content: NATURAL_MERGE, commit: false, message: 'natural merge sort: reuse the runs already in the input' },
  { expect: 'discard', base: 6, file: 'sort.mjs', content: NATURAL_MERGE_TIDY, message: 'refactor natural merge sort into named helpers (same comparisons)' },
  // Sorts fine on most inputs but drops items: the evaluator rejects the result.
  { expect: 'crash', base: 6, file: 'sort.mjs', edit: replace('  while (i < left.length) a[k++] = left[i++];\n', ''), message: 'merge: skip copying the tail of the left run' },
];

/** The sort.mjs content of step `n` (1-based), or null for the baseline, which this script does not know. */
function sortAfter(n) {
  return n === 0 ? null : (STEPS[n - 1].content ?? null);
}

/** Reads the prompt the loop sends on stdin; gives up after 2 s so a stray open pipe cannot hang us. */
async function readStdin() {
  if (process.stdin.isTTY) return '';
  const chunks = [];
  const timer = setTimeout(() => process.stdin.destroy(), 2000);
  try {
    for await (const chunk of process.stdin) chunks.push(chunk);
  } catch {
    // destroyed by the timer: use what arrived
  }
  clearTimeout(timer);
  return Buffer.concat(chunks).toString('utf8');
}

/** git with a fallback identity: a fresh machine has none, and the demo must still commit. */
function git(cwd, args) {
  const hasIdentity = (key) => {
    try {
      return execFileSync('git', ['config', key], { cwd, encoding: 'utf8' }).trim() !== '';
    } catch {
      return false;
    }
  };
  const identity = [];
  if (!process.env.GIT_AUTHOR_NAME && !hasIdentity('user.name')) identity.push('-c', 'user.name=autoresearch demo agent');
  if (!process.env.GIT_AUTHOR_EMAIL && !hasIdentity('user.email')) identity.push('-c', 'user.email=demo-agent@example.invalid');
  return execFileSync('git', [...identity, '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

async function main() {
  const iteration = Number(process.env.AUTORESEARCH_ITERATION);
  if (!Number.isInteger(iteration) || iteration < 1) {
    console.error(`agent.mjs: AUTORESEARCH_ITERATION must be a positive integer, got ${JSON.stringify(process.env.AUTORESEARCH_ITERATION)}`);
    process.exit(2);
  }
  // Required, not defaulted to cwd: run by hand in the wrong directory, this would overwrite sort.mjs there.
  const worktree = process.env.AUTORESEARCH_WORKTREE;
  if (!worktree || !fs.existsSync(path.join(worktree, 'sort.mjs'))) {
    console.error(`agent.mjs: AUTORESEARCH_WORKTREE must name the worktree holding sort.mjs, got ${JSON.stringify(worktree)}`);
    process.exit(2);
  }
  const prompt = await readStdin();
  const promptInfo = prompt ? `read a ${prompt.trimEnd().split('\n').length}-line prompt` : 'no prompt on stdin';

  const step = STEPS[iteration - 1];
  if (!step) {
    console.log(`agent: iteration ${iteration}: nothing left to try, no change (${promptInfo})`);
    return;
  }

  const sortFile = path.join(worktree, 'sort.mjs');
  const expected = sortAfter(step.base);
  if (expected !== null && fs.readFileSync(sortFile, 'utf8') !== expected) {
    console.error(`agent: warning: sort.mjs is not the version kept at step ${step.base}; did the loop roll back to the last kept commit?`);
  }

  const file = path.join(worktree, step.file);
  const content = step.content ?? step.edit(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, content);
  if (step.commit !== false) git(worktree, ['commit', '-q', '-am', step.message]);
  const how = step.commit === false ? 'left uncommitted' : 'committed';
  console.log(`agent: iteration ${iteration}: ${step.message} (${step.file}, ${how}; expect ${step.expect}; ${promptInfo})`);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  await main();
}
