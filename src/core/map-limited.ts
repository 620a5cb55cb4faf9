/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight: reading a thousand
 * experiments' files at once holds a thousand of everything in memory and gains nothing
 * over a few at a time (the reads queue on the same thread pool). Results in input order;
 * the first rejection rejects (the calls already started finish on their own).
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
