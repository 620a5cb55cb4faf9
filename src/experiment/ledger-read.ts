/**
 * The figures of an experiment's ledger for `status` and `results --all`, as cheaply as they
 * can be known (issue 13), never by taking the experiment's lock:
 *  1. state.json's digest, while it describes results.tsv (the loop writes it after each row);
 *  2. results.tsv.digest, the figures a reader computed before, while the ledger is the very
 *     file they were computed from (same device, inode, size, mtime and ctime);
 *  3. otherwise the ledger is read (streamed, scan-ledger-file.ts), and the figures are left
 *     in results.tsv.digest for the next reader.
 *
 * results.tsv.digest is a cache, not a record: written by readers in the background (temp +
 * rename, so a reader sees a whole file or none; no fsync: a lost one is only computed again),
 * only when the ledger did not change while it was read nor for a few seconds before
 * (SETTLED_MS), and ignored unless it names the ledger's current version. A loop appending
 * meanwhile, or two readers racing, at worst leave the figures of an older version, which the
 * next reader ignores. The loop never reads it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { experimentsOf } from '../ledger/experiment-counts.js';
import { NO_FIGURES, type LedgerFigures } from '../ledger/ledger-figures.js';
import { sameVersion, scanLedgerFile, versionOf, type LedgerVersion } from '../ledger/scan-ledger-file.js';
import { fileSize, type LedgerDigest } from './ledger-digest.js';

export interface LedgerRead {
  figures: LedgerFigures;
  /** Why the figures are those of an empty ledger: it does not parse (corrupt), or could not be read. */
  problem: { corrupt: boolean; message: string } | null;
}

const CACHE_FORMAT = 1;

/** Where a reader leaves the figures of results.tsv (matched by the `results.tsv.*` ignore pattern). */
export function figuresCacheFile(results: string): string {
  return `${results}.digest`;
}

/**
 * The ledger's figures. `digest` and `consecutiveCrashes`: state.json's, when it was read
 * (its digest has no crash streak: the state's own count is the one that matters then).
 */
export function readLedger(results: string, state: { digest?: LedgerDigest; consecutiveCrashes: number } | null, opts: { settledMs?: number } = {}): LedgerRead {
  const digest = state?.digest;
  if (digest !== undefined && digest.ledgerBytes === fileSize(results)) {
    return {
      figures: {
        iterations: digest.iterations,
        experiments: experimentsOf(digest).experiments, // an older digest lacks it
        keeps: digest.keeps,
        discards: digest.discards,
        crashes: digest.crashes,
        best: digest.best,
        baseline: digest.baseline,
        lastTimestamp: digest.lastTimestamp,
        consecutiveCrashes: state?.consecutiveCrashes ?? 0,
      },
      problem: null,
    };
  }
  const cached = readCachedFigures(results);
  if (cached !== null) return { figures: cached, problem: null };
  try {
    const scanned = scanLedgerFile(results);
    if (scanned.version !== null && scanned.stable && settled(scanned.version, opts.settledMs ?? SETTLED_MS)) writeCachedFigures(results, scanned.version, scanned.figures);
    return { figures: scanned.figures, problem: null };
  } catch (error) {
    const corrupt = error instanceof AutoresearchError && error.code === 'LEDGER_CORRUPT';
    return { figures: { ...NO_FIGURES }, problem: { corrupt, message: errorMessage(error) } };
  }
}

/**
 * File times tick coarsely (a few ms): a ledger rewritten at its size within the same tick as
 * our read would look unchanged. So, as git does for its index, figures are only cached of a
 * ledger whose last change (ctime: any write, rename or utimes) is older than this.
 */
const SETTLED_MS = 2000;

function settled(version: LedgerVersion, settledMs: number): boolean {
  return Date.now() - Number(BigInt(version.ctimeNs) / 1_000_000n) > settledMs;
}

interface CachedFigures {
  format: number;
  ledger: LedgerVersion;
  figures: LedgerFigures;
}

/** The cached figures, when they are of the ledger now at `results`; null otherwise (none, stale, unreadable). */
function readCachedFigures(results: string): LedgerFigures | null {
  let st: fs.BigIntStats;
  let cached: CachedFigures;
  try {
    st = fs.statSync(results, { bigint: true });
    cached = JSON.parse(fs.readFileSync(figuresCacheFile(results), 'utf8')) as CachedFigures;
  } catch {
    return null;
  }
  if (typeof cached !== 'object' || cached === null || cached.format !== CACHE_FORMAT || !isVersion(cached.ledger) || !isFigures(cached.figures)) return null;
  return sameVersion(cached.ledger, versionOf(st)) ? cached.figures : null;
}

/**
 * Written in the background (the thread pool writes while the next ledger is read): nobody
 * waits for a cache. A write that fails (a read-only directory, a full disk) only means the
 * next reader reads the ledger again.
 */
function writeCachedFigures(results: string, ledger: LedgerVersion, figures: LedgerFigures): void {
  const file = figuresCacheFile(results);
  // A name of its own per writer: two readers racing each rename a whole file.
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const text = JSON.stringify({ format: CACHE_FORMAT, ledger, figures } satisfies CachedFigures);
  const write = fsp
    .writeFile(temp, text)
    .then(() => fsp.rename(temp, file))
    .catch(() => fsp.rm(temp, { force: true }).catch(() => undefined))
    .finally(() => writing.delete(write));
  writing.add(write);
}

const writing = new Set<Promise<unknown>>();

/** Settles when the figures being cached are written (tests; a command may exit without waiting). */
export async function cachedFiguresWritten(): Promise<void> {
  while (writing.size > 0) await Promise.all([...writing]);
}

function isVersion(v: unknown): v is LedgerVersion {
  const o = v as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'].every((k) => typeof o[k] === 'string');
}

function isFigures(v: unknown): v is LedgerFigures {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return false;
  const counts = ['iterations', 'experiments', 'keeps', 'discards', 'crashes', 'consecutiveCrashes'].every((k) => Number.isSafeInteger(o[k]) && (o[k] as number) >= 0);
  const metric = (k: string) => o[k] === null || (typeof o[k] === 'number' && Number.isFinite(o[k]));
  return counts && metric('best') && metric('baseline') && (o.lastTimestamp === null || typeof o.lastTimestamp === 'string');
}
