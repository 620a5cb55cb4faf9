/**
 * A ledger file's figures (ledger-figures.ts), read in small chunks: memory stays at one
 * chunk (and the longest line) whatever the file's size. Read-only, no lock: the file is read
 * up to the size it had when opened (a row appended meanwhile is for the next reader), and a
 * torn last line is left for the next run to repair. Synchronous: `status` reads a thousand
 * ledgers, and thread-pool round trips would cost more than the reading.
 */
import fs from 'node:fs';
import { isErrno } from '../fs/durable.js';
import { LedgerFigureScanner, NO_FIGURES, type LedgerFigures } from './ledger-figures.js';

/** Which version of the file was read: a cache of its figures is valid while these are unchanged. */
export interface LedgerVersion {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export interface ScannedLedger {
  figures: LedgerFigures;
  /** null: no file. */
  version: LedgerVersion | null;
  /** The file did not change while it was read (same version before and after): its figures may be cached. */
  stable: boolean;
}

/** Small pieces: their strings die young (cheap to collect), and a usual ledger takes a few reads. */
const CHUNK = 64 * 1024;

/** Figures of the ledger at `file` (no file: none). Throws LEDGER_CORRUPT as parseLedgerText would, and read errors. */
export function scanLedgerFile(file: string, opts: { chunkBytes?: number } = {}): ScannedLedger {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { figures: { ...NO_FIGURES }, version: null, stable: true };
    throw error;
  }
  try {
    const before = versionOf(fs.fstatSync(fd, { bigint: true }));
    const size = Number(before.size);
    const chunk = opts.chunkBytes ?? CHUNK;
    let scanner = new LedgerFigureScanner(file);
    readLines(fd, size, chunk, scanner);
    if (scanner.needsKeepChain) {
      // A reset or revalidation row: the best is the top of the keep chain, read again with it.
      scanner = new LedgerFigureScanner(file, { keepChain: true });
      readLines(fd, size, chunk, scanner);
    }
    const after = versionOf(fs.fstatSync(fd, { bigint: true }));
    return { figures: scanner.figures(), version: before, stable: sameVersion(before, after) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `size` bytes of the file, as whole lines; what is left unterminated is a torn tail (a crash mid-write), never a row. */
function readLines(fd: number, size: number, chunk: number, scanner: LedgerFigureScanner): void {
  let buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, size)));
  let held = 0; // bytes of an unfinished line at the start of `buffer`
  let offset = 0;
  while (offset < size) {
    if (held === buffer.length) {
      // A line longer than the buffer: grow it (memory follows the longest line).
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, held);
      buffer = bigger;
    }
    const bytesRead = fs.readSync(fd, buffer, held, Math.min(buffer.length - held, size - offset), offset);
    if (bytesRead === 0) return; // truncated meanwhile: what was read is what there is
    offset += bytesRead;
    const filled = held + bytesRead;
    const lastLf = buffer.lastIndexOf(0x0a, filled - 1);
    if (lastLf < 0) {
      held = filled;
      continue;
    }
    // Whole lines only: a line break is never inside a UTF-8 sequence, so this decodes cleanly.
    scanner.push(buffer.toString('utf8', 0, lastLf + 1));
    held = filled - (lastLf + 1);
    buffer.copy(buffer, 0, lastLf + 1, filled);
  }
}

export function versionOf(st: fs.BigIntStats): LedgerVersion {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameVersion(a: LedgerVersion, b: LedgerVersion): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}
