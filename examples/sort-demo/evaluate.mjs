#!/usr/bin/env node
/**
 * Evaluates sort.mjs: sorts a fixed set of inputs, checks every result, and prints the total
 * number of comparisons (lower is better). Deterministic: the inputs come from a seeded PRNG
 * and the metric counts calls, not time, so the same sort.mjs always scores the same.
 *
 * Items are opaque tokens: the only way to order them is the `compare` function passed to
 * sort(), so every comparison is counted (`a < b` on a token throws a TypeError).
 *
 * Exit 0 and a `comparisons: N` line on success; exit 1 with a message if sort.mjs fails to
 * load, throws, or returns anything but a sorted permutation of its input.
 */

/** mulberry32: a tiny seeded PRNG, so the inputs are identical on every machine. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(20261121);
const int = (n) => Math.floor(rand() * n);

/** A mix of shapes real data has: random, few distinct values, nearly sorted, sorted runs. */
function makeCases() {
  const random = (n) => Array.from({ length: n }, () => int(1_000_000));
  const fewValues = (n) => Array.from({ length: n }, () => int(8));
  const sorted = (n) => random(n).sort((a, b) => a - b);
  const nearlySorted = (n, swaps) => {
    const a = sorted(n);
    for (let i = 0; i < swaps; i++) {
      const j = int(n);
      const k = int(n);
      [a[j], a[k]] = [a[k], a[j]];
    }
    return a;
  };
  const runs = (n, count) => Array.from({ length: count }, () => sorted(n / count)).flat();
  return [
    ['random-200 #1', random(200)],
    ['random-200 #2', random(200)],
    ['random-200 #3', random(200)],
    ['random-500', random(500)],
    ['few-values-300', fewValues(300)],
    ['sorted-300', sorted(300)],
    ['reversed-300', sorted(300).reverse()],
    ['nearly-sorted-400', nearlySorted(400, 6)],
    ['four-runs-400', runs(400, 4)],
    ['small-10 x20', null], // expanded below: many tiny inputs, where overhead per call matters
  ].flatMap(([name, keys]) =>
    keys ? [[name, keys]] : Array.from({ length: 20 }, (_, i) => [`small-10 #${i + 1}`, random(10)]),
  );
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

let sort;
try {
  ({ sort } = await import(new URL('./sort.mjs', import.meta.url)));
} catch (err) {
  fail(`cannot load sort.mjs: ${err instanceof Error ? err.message : err}`);
}
if (typeof sort !== 'function') fail('sort.mjs must export a function named sort(items, compare)');

const keyOf = new WeakMap();
let total = 0;
const perShape = new Map();

for (const [name, keys] of makeCases()) {
  const items = keys.map((key) => {
    const token = Object.freeze(Object.create(null));
    keyOf.set(token, key);
    return token;
  });
  const input = items.slice();
  let count = 0;
  const compare = (a, b) => {
    count++;
    const ka = keyOf.get(a);
    const kb = keyOf.get(b);
    if (ka === undefined || kb === undefined) throw new TypeError('compare() called with something that is not an input item');
    return ka - kb;
  };

  let output;
  try {
    output = sort(input, compare);
  } catch (err) {
    fail(`sort() threw on ${name}: ${err instanceof Error ? err.message : err}`);
  }
  if (!Array.isArray(output)) fail(`sort() must return an array (${name}: got ${typeof output})`);
  if (output.length !== items.length) fail(`${name}: expected ${items.length} items, got ${output.length}`);
  // Same items (each exactly once) and in order.
  const seen = new Set(output);
  if (seen.size !== items.length || !items.every((t) => seen.has(t))) fail(`${name}: the result is not a permutation of the input`);
  for (let i = 1; i < output.length; i++) {
    if (keyOf.get(output[i - 1]) > keyOf.get(output[i])) fail(`${name}: not sorted at index ${i}`);
  }

  total += count;
  const shape = name.replace(/ #\d+$/, '');
  perShape.set(shape, (perShape.get(shape) ?? 0) + count);
}

for (const [shape, count] of perShape) console.log(`  ${shape.padEnd(18)} ${count}`);
console.log(`comparisons: ${total}`);
