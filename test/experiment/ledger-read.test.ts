/**
 * ledger-read.ts: the figures `status` shows come from state.json's digest, a reader's cached
 * figures, or the ledger itself, and are always those of the ledger as it is now: a cache is
 * never believed once the ledger grew, was edited or replaced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedFiguresWritten, figuresCacheFile, readLedger } from '../../src/experiment/ledger-read.js';
import { formatRow } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS, type LedgerRow } from '../../src/ledger/types.js';
import { row } from '../helpers/ledger-row.js';

let dir: string;
let file: string;
let cacheFile: string;
const cacheDir = process.env.AUTORESEARCH_CACHE_DIR;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-read-'));
  file = path.join(dir, 'results.tsv');
  process.env.AUTORESEARCH_CACHE_DIR = path.join(dir, 'cache');
  cacheFile = figuresCacheFile() ?? '';
});
afterEach(() => {
  if (cacheDir === undefined) delete process.env.AUTORESEARCH_CACHE_DIR;
  else process.env.AUTORESEARCH_CACHE_DIR = cacheDir;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The cache file, and this ledger's entry in it. */
const cache = () => JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { format: number; ledgers: Record<string, { figures: Record<string, unknown> }> };

const line = (r: LedgerRow) => formatRow(r, LEDGER_COLUMNS);
const HEADER = `${LEDGER_COLUMNS.join('\t')}\n`;
const keep = (iteration: number, metric: number) => line(row({ iteration, metric, reason: 'improved', description: `idea ${iteration}` }));
const crash = (iteration: number) => line(row({ iteration, metric: null, status: 'crash', reason: 'eval_exit', description: `idea ${iteration}` }));
/** No settling time: a test's ledger is always just written. */
const now = { settledMs: -1 };

async function read() {
  const result = readLedger(file, null, now);
  await cachedFiguresWritten();
  return result;
}

describe('readLedger', () => {
  it('reads the ledger, leaves its figures for the next reader, and uses them while the ledger is unchanged', async () => {
    fs.writeFileSync(file, HEADER + line(row()) + keep(1, 0.4) + crash(2));
    const first = await read();
    expect(first).toEqual({ problem: null, figures: expect.objectContaining({ iterations: 3, keeps: 2, best: 0.4, baseline: 0.5, consecutiveCrashes: 1 }) });
    expect(cacheFile).toBe(path.join(dir, 'cache', 'ledger-figures.json'));
    const written = cache();
    expect(written.ledgers[file]?.figures).toEqual(first.figures);
    // Proof the second read uses the cache: figures planted in it are returned.
    const entry = written.ledgers[file];
    fs.writeFileSync(cacheFile, JSON.stringify({ ...written, ledgers: { [file]: { ...entry, figures: { ...entry?.figures, best: 0.123 } } } }));
    expect((await read()).figures.best).toBe(0.123);
  });

  it('ignores the cache once the ledger grew, was edited at the same size, or replaced', async () => {
    fs.writeFileSync(file, HEADER + line(row()) + keep(1, 0.4));
    await read();
    fs.appendFileSync(file, keep(2, 0.3));
    expect((await read()).figures).toMatchObject({ iterations: 3, best: 0.3 });

    // Same size, same inode: only the times differ (set apart explicitly: file times tick coarsely).
    const text = fs.readFileSync(file, 'utf8');
    const edited = text.replace('0.300000', '0.200000');
    expect(edited.length).toBe(text.length);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, edited, 0);
    fs.closeSync(fd);
    fs.utimesSync(file, new Date(Date.now() + 5000), new Date(Date.now() + 5000));
    expect((await read()).figures.best).toBe(0.2);

    const other = path.join(dir, 'other.tsv');
    fs.writeFileSync(other, HEADER + line(row({ metric: 9 })));
    fs.renameSync(other, file);
    expect((await read()).figures).toMatchObject({ iterations: 1, best: 9 });
  });

  it('a cache that is not one of ours, or torn, is ignored (read again, and replaced)', async () => {
    fs.writeFileSync(file, HEADER + line(row()));
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    for (const junk of ['', '{"format":2', 'null', `{"format":2,"ledgers":{${JSON.stringify(file)}:{"ledger":{},"figures":{}}}}`, JSON.stringify({ format: 99 })]) {
      fs.writeFileSync(cacheFile, junk);
      expect((await read()).figures).toMatchObject({ iterations: 1, best: 0.5 });
    }
    expect(cache().ledgers[file]?.figures.iterations).toBe(1);
  });

  it('caches nothing of a ledger changed moments ago (its times could not tell a same-size edit apart)', async () => {
    fs.writeFileSync(file, HEADER + line(row()));
    readLedger(file, null, { settledMs: 60_000 });
    await cachedFiguresWritten();
    expect(fs.existsSync(cacheFile)).toBe(false);
  });

  it("uses state.json's digest while it describes the ledger's size, else reads the ledger", async () => {
    fs.writeFileSync(file, HEADER + line(row()) + keep(1, 0.4));
    const size = fs.statSync(file).size;
    const digest = { iterations: 2, keeps: 2, discards: 0, crashes: 0, best: 0.4, baseline: 0.5, lastTimestamp: null, ledgerBytes: size };
    // No `experiments` (an older digest): one baseline assumed.
    expect(readLedger(file, { digest, consecutiveCrashes: 4 }, now).figures).toEqual({ ...digest, ledgerBytes: undefined, experiments: 1, consecutiveCrashes: 4 });
    expect(readLedger(file, { digest: { ...digest, ledgerBytes: size - 1, best: 7 }, consecutiveCrashes: 0 }, now).figures.best).toBe(0.4);
    await cachedFiguresWritten();
  });

  it('a corrupt ledger: no figures, the located error; no ledger: no figures, no error', async () => {
    fs.writeFileSync(file, `${HEADER}${line(row())}not a row\n`);
    expect(await read()).toEqual({ figures: expect.objectContaining({ iterations: 0 }), problem: { corrupt: true, message: expect.stringContaining('results.tsv:3: ') } });
    expect(fs.existsSync(cacheFile)).toBe(false);
    fs.rmSync(file);
    expect(await read()).toEqual({ figures: expect.objectContaining({ iterations: 0 }), problem: null });
  });

  it('keeps the figures of every ledger read in one file, merged with what another reader wrote meanwhile', async () => {
    const other = path.join(dir, 'other', 'results.tsv');
    fs.mkdirSync(path.dirname(other));
    fs.writeFileSync(file, HEADER + line(row()));
    fs.writeFileSync(other, HEADER + line(row({ metric: 2 })) + keep(1, 1));
    readLedger(file, null, now);
    await cachedFiguresWritten();
    // Another process wrote an entry meanwhile: kept, not overwritten by ours.
    const written = cache();
    fs.writeFileSync(cacheFile, JSON.stringify({ ...written, ledgers: { ...written.ledgers, '/elsewhere/results.tsv': written.ledgers[file] } }));
    readLedger(other, null, now);
    await cachedFiguresWritten();
    expect(Object.keys(cache().ledgers).sort()).toEqual(['/elsewhere/results.tsv', file, other].sort());
    expect(cache().ledgers[other]?.figures).toMatchObject({ iterations: 2, best: 1 });
  });
});

