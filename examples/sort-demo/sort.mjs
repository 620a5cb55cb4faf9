/**
 * Sorts `items` with `compare(a, b)` (negative, zero or positive, like Array.prototype.sort)
 * and returns the sorted array. evaluate.mjs counts the calls to `compare`: fewer is better.
 *
 * Baseline: bubble sort, every pass over the whole array.
 */
export function sort(items, compare) {
  const a = items.slice();
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j + 1 < a.length - i; j++) {
      if (compare(a[j], a[j + 1]) > 0) [a[j], a[j + 1]] = [a[j + 1], a[j]];
    }
  }
  return a;
}
