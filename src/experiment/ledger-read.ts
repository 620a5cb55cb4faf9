/**
 * The figures of an experiment's ledger for `status` and `results --all`, as cheaply as they
 * can be known (issue 13), never by taking the experiment's lock:
 *  1. state.json's digest, while it describes results.tsv (the loop writes it after each row);
 *  2. the figures a reader computed before (figuresCacheFile: one file per user, keyed by the
 *     ledger's path), while the ledger is the very file they were computed from (same device,
 *     inode, size, mtime and ctime);
 *  3. otherwise the ledger is read (streamed, scan-ledger-file.ts), and the figures are left
 *     in that cache for the next reader.
 *
 * The cache is not a record: written by readers once per command (temp + rename, so a reader
 * sees a whole file or none; no fsync: a lost one is only computed again), of a ledger only
 * when it did not change while it was read nor for a few seconds before (SETTLED_MS), and an
 * entry is ignored unless it names the ledger's current version. A loop appending meanwhile,
 * or two readers racing, at worst leave the figures of an older version, which the next reader
 * ignores. The loop never reads it.
 */
import fs from 'node:fs';
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

const CACHE_FORMAT = 2;

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

/**
 * Where readers leave the figures of every ledger they read: ONE file per user (1,000 ledgers
 * read for the first time: creating 1,000 files cost more than reading them), keyed by the
 * ledger's path. $AUTORESEARCH_CACHE_DIR, else $XDG_CACHE_HOME/autoresearch, else
 * ~/.cache/autoresearch; null (no cache) when none can be named.
 */
export function figuresCacheFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.AUTORESEARCH_CACHE_DIR;
  if (explicit !== undefined && path.isAbsolute(explicit)) return path.join(explicit, 'ledger-figures.json');
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'autoresearch', 'ledger-figures.json');
  const home = env.HOME;
  return home !== undefined && path.isAbsolute(home) ? path.join(home, '.cache', 'autoresearch', 'ledger-figures.json') : null;
}

interface CachedFigures {
  ledger: LedgerVersion;
  figures: LedgerFigures;
}

/** Entries kept at most (the oldest go first): a bound on the file, whatever was ever read. */
const MAX_ENTRIES = 10_000;

/** The cache file as last read by this process (read again when it changed on disk). */
let loaded: { file: string; mtimeMs: number; size: number; entries: Map<string, CachedFigures> } | null = null;
/** Figures computed by this process, not yet written. */
const pending = new Map<string, CachedFigures>();
let flushHooked = false;

function cacheEntries(file: string): Map<string, CachedFigures> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return new Map(); // none yet
  }
  if (loaded !== null && loaded.file === file && loaded.mtimeMs === st.mtimeMs && loaded.size === st.size) return loaded.entries;
  const entries = new Map<string, CachedFigures>();
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown; ledgers?: unknown };
    if (parsed?.format === CACHE_FORMAT && typeof parsed.ledgers === 'object' && parsed.ledgers !== null) {
      for (const [ledger, entry] of Object.entries(parsed.ledgers as Record<string, CachedFigures>)) {
        if (typeof entry === 'object' && entry !== null && isVersion(entry.ledger) && isFigures(entry.figures)) entries.set(ledger, entry);
      }
    }
  } catch {
    // torn, or not ours: as if empty (replaced at the next write)
  }
  loaded = { file, mtimeMs: st.mtimeMs, size: st.size, entries };
  return entries;
}

/** The cached figures, when they are of the ledger now at `results`; null otherwise (none, stale, unreadable). */
function readCachedFigures(results: string): LedgerFigures | null {
  const file = figuresCacheFile();
  if (file === null) return null;
  const key = path.resolve(results);
  const cached = pending.get(key) ?? cacheEntries(file).get(key);
  if (cached === undefined) return null;
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(results, { bigint: true });
  } catch {
    return null;
  }
  return sameVersion(cached.ledger, versionOf(st)) ? cached.figures : null;
}

/**
 * Kept until the command ends (or a second passes, in a long-lived process), then written in
 * one go: nobody waits for a cache. A write that fails (a read-only home, a full disk) only
 * means the next reader reads the ledger again.
 */
function writeCachedFigures(results: string, ledger: LedgerVersion, figures: LedgerFigures): void {
  pending.set(path.resolve(results), { ledger, figures });
  if (!flushHooked) {
    flushHooked = true;
    process.once('exit', () => writePendingFigures());
  }
  flushTimer ??= setTimeout(() => {
    flushTimer = null;
    writePendingFigures();
  }, 1000).unref();
}

let flushTimer: NodeJS.Timeout | null = null;

/**
 * Merge what this process computed into the file as it is now (another reader may have written
 * meanwhile) and replace it whole: temp + rename, no fsync (a lost cache is computed again).
 */
function writePendingFigures(): void {
  const file = figuresCacheFile();
  if (file === null || pending.size === 0) return;
  const entries = new Map(cacheEntries(file));
  for (const [key, entry] of pending) {
    entries.delete(key); // re-inserted last: the newest survive the bound
    entries.set(key, entry);
  }
  pending.clear();
  while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temp, JSON.stringify({ format: CACHE_FORMAT, ledgers: Object.fromEntries(entries) }));
    fs.renameSync(temp, file);
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/** Writes what is pending now (tests; a command writes at exit). */
export async function cachedFiguresWritten(): Promise<void> {
  writePendingFigures();
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
