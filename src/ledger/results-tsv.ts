/**
 * The results.tsv ledger (SPEC §4): the source of truth of an experiment, append-only.
 *
 * Durability, step by step:
 *  - a new file, or an upgraded header, is written whole with writeFileDurable
 *    (temp + fsync + rename + directory fsync);
 *  - each row is ONE write(2) of the whole line on an O_APPEND descriptor, then fsync: a
 *    crash leaves either the full line or a prefix without `\n` (a torn tail), never a row
 *    glued to half of another;
 *  - a torn tail is moved aside and cut off on the next open, and reported;
 *  - a short write or a failed fsync poisons the Ledger: every later append is refused.
 *    An fsync is never retried (after EIO the kernel may have dropped the pages, so a retry
 *    can "succeed" with the row lost); the loop must stop.
 *
 * Replaced under us (`sed -i`, an editor saving by rename, deleted, truncated, or rows
 * appended by another writer): before each row the path's dev/ino and size are compared
 * with what this Ledger last wrote. On a difference the file is read again and the row goes
 * to the file now at the path: never into an unlinked one. A deleted ledger is written again
 * from the rows this Ledger holds (nothing lost); rows the user removed stay removed (a
 * warning names them) but their iteration numbers are never given out again: nextIteration()
 * never goes below a number already used. A replacement that does not parse stops the loop
 * with a located LEDGER_CORRUPT (the caller keeps the row in runs/<n>/result.json).
 * A UTF-8 BOM (an editor's) is accepted and left in place by appends; a rewrite drops it.
 */
import fsSync, { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { isErrno, writeFileDurable } from '../fs/durable.js';
import { formatRow, parseLedgerText, parseRowLine } from './tsv-format.js';
import { hasEveryColumnOfOurs, LEDGER_COLUMNS, usableGuardColumns, type LedgerRow } from './types.js';

export interface RepairInfo {
  file: string;
  /** Bytes of the unterminated last line that were cut off. */
  tornBytes: number;
  /** Where those bytes were saved. */
  savedTo: string;
}

export interface UpgradeInfo {
  file: string;
  from: string[];
  to: string[];
}

export interface LedgerOptions {
  /**
   * The config's `guard` metrics (in config order): each has its own column after ours. A
   * ledger without one gets it on open (existing rows: empty); a column no longer configured stays.
   */
  guards?: readonly string[];
  onRepair?: (info: RepairInfo) => void;
  onUpgrade?: (info: UpgradeInfo) => void;
  /** Names the saved torn fragment. */
  clock?: Pick<Clock, 'now'>;
  /** Test seam: how an appended row is fsynced (inject a failure without mocking node:fs). */
  fsync?: (fd: number) => void;
  /** The file was replaced, deleted or changed by someone else during the run (already handled). */
  onReplaced?: (info: ReplacedInfo) => void;
}

export interface ReplacedInfo {
  file: string;
  /** What was found: `deleted`, `replaced` (another inode), or `changed` (same inode, another size). */
  how: 'deleted' | 'replaced' | 'changed';
  /** Iterations this Ledger held that the file no longer has (never numbered again). */
  removed: number[];
  /** Rows read from the file that this Ledger did not hold (written by someone else). */
  added: number;
}

/** Which file the path named when we last wrote it, and the size we left it at. */
interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
}

/** What a ledger file holds once read (created, repaired or upgraded as needed). */
interface Loaded {
  columns: readonly string[];
  rows: LedgerRow[];
}

export class Ledger {
  private fd: number | undefined;
  /** Set by the first failed append: the file's tail is unknown, so no more rows. */
  private failure: string | undefined;
  /** Appends run one at a time, so `rows` stays in file order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The lowest number nextIteration() may give: one past every iteration ever used. */
  private floor = 0;

  private constructor(
    readonly file: string,
    private cols: readonly string[],
    private list: LedgerRow[],
    private identity: FileIdentity,
    private readonly opts: LedgerOptions,
    private readonly fsync: (fd: number) => void,
  ) {
    this.floor = maxNext(list);
  }

  /** Read (creating, repairing or upgrading as needed) the ledger at `file`. */
  static async open(file: string, opts: LedgerOptions = {}): Promise<Ledger> {
    const fsync = opts.fsync ?? ((fd) => fsSync.fsyncSync(fd));
    const loaded = await loadLedger(file, await readBytesIfExists(file), opts);
    return new Ledger(file, loaded.columns, loaded.rows, identityOf(file), opts, fsync);
  }

  rows(): readonly LedgerRow[] {
    return this.list;
  }

  columns(): readonly string[] {
    return this.cols;
  }

  /** The iteration number of the next row: one past the highest ever recorded (or reserved), 0 when none. */
  nextIteration(): number {
    return Math.max(this.floor, maxNext(this.list));
  }

  /**
   * Never number an iteration below `next` (e.g. one past what state.json or runs/<n>/result.json
   * record, when rows were removed from the file): a number names one iteration for good.
   */
  reserveBelow(next: number): void {
    this.floor = Math.max(this.floor, next);
  }

  /** Append one row durably. A DURABILITY error means: stop the loop, do not retry. */
  append(row: LedgerRow): Promise<void> {
    const result = this.queue.then(() => this.appendNow(row));
    this.queue = result.catch(() => undefined); // the failure is reported to this caller; later ones see `failure`
    return result;
  }

  /** Close the append descriptor, after any append in flight. Idempotent. */
  async close(): Promise<void> {
    await this.queue;
    this.closeFd();
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fsSync.closeSync(fd);
  }

  private async appendNow(row: LedgerRow): Promise<void> {
    if (this.failure !== undefined) {
      throw new AutoresearchError('DURABILITY', `refusing to append to ${this.file}: an earlier append failed (${this.failure}); restart to repair the ledger`);
    }
    // A replacement between our check and our write sends the row to the unlinked file: seen
    // right after the write, and written again to the file now at the path.
    for (let attempt = 1; ; attempt++) {
      await this.followReplacement(row);
      const line = this.writeLine(row);
      if (this.pathStillNamesFd() || attempt >= 3) {
        // Keep the row as a reader of the file will see it (description sanitised, and so on).
        this.list.push(parseRowLine(line.toString('utf8').slice(0, -1), this.cols, { file: this.file, line: this.list.length + 2, index: this.nextIteration() }));
        this.floor = Math.max(this.floor, row.iteration + 1);
        return;
      }
    }
  }

  /** One write of the whole line plus fsync on the O_APPEND descriptor; the line written. */
  private writeLine(row: LedgerRow): Buffer {
    const line = Buffer.from(formatRow(row, this.cols), 'utf8');
    let operation = `open ${this.file} for appending`;
    try {
      // O_APPEND without O_CREAT: the kernel puts every write at the current end, and a
      // ledger deleted under us is an error, not a new headerless file.
      // Synchronous syscalls: one small write and an fsync are cheaper than two thread-pool round trips.
      this.fd ??= fsSync.openSync(this.file, constants.O_WRONLY | constants.O_APPEND);
      operation = `write ${line.length} bytes to ${this.file}`;
      // One write for the whole line: a crash can only leave a prefix of it (a torn tail).
      const bytesWritten = fsSync.writeSync(this.fd, line, 0, line.length, null);
      if (bytesWritten !== line.length) throw new Error(`short write: ${bytesWritten} of ${line.length} bytes written`);
      operation = `fsync ${this.file}`;
      // The row must be on disk before the loop acts on it (git keep/rollback, next iteration).
      this.fsync(this.fd);
      const after = fsSync.fstatSync(this.fd);
      this.identity = { dev: after.dev, ino: after.ino, size: after.size };
    } catch (error) {
      this.failure = `${operation}: ${errorMessage(error)}`;
      throw new AutoresearchError('DURABILITY', `${operation} failed: ${errorMessage(error)}; the loop must stop (an fsync is never retried)`, { cause: error });
    }
    return line;
  }

  /** Whether the path still names the file our descriptor wrote to. */
  private pathStillNamesFd(): boolean {
    const now = statIfExists(this.file);
    return now !== null && now.dev === this.identity.dev && now.ino === this.identity.ino;
  }

  /**
   * The path must still name the file we last wrote, at the size we left it: otherwise read
   * what is there now and append to that (never to an unlinked file).
   */
  private async followReplacement(row: LedgerRow): Promise<void> {
    const now = statIfExists(this.file);
    let how: ReplacedInfo['how'];
    if (now === null) how = 'deleted';
    else if (now.dev !== this.identity.dev || now.ino !== this.identity.ino) how = 'replaced';
    else if (now.size !== this.identity.size) how = 'changed';
    else return;

    this.closeFd();
    let loaded: Loaded;
    if (how === 'deleted') {
      // Nothing lost: the rows this Ledger holds are every row the file had.
      await writeFileDurable(this.file, formatHeader(this.cols) + this.list.map((r) => formatRow(r, this.cols)).join(''));
      loaded = { columns: this.cols, rows: this.list };
    } else {
      try {
        loaded = await loadLedger(this.file, await readBytesIfExists(this.file), this.opts);
      } catch (error) {
        if (!(error instanceof AutoresearchError)) throw error;
        throw new AutoresearchError(
          'LEDGER_CORRUPT',
          `${this.file} was ${how} during the run and no longer reads as a ledger: ${error.message}. ` +
            `The row of iteration ${row.iteration} was not appended (it is kept in runs/${String(row.iteration).padStart(5, '0')}/result.json): ` +
            `fix the file, or restore it with \`autoresearch results <id> --rebuild\`, then run again`,
          { cause: error },
        );
      }
    }
    const present = new Set(loaded.rows.map((r) => r.iteration));
    const known = new Set(this.list.map((r) => r.iteration));
    const removed = this.list.filter((r) => !present.has(r.iteration)).map((r) => r.iteration);
    const added = loaded.rows.filter((r) => !known.has(r.iteration)).length;
    this.floor = Math.max(this.floor, maxNext(this.list), maxNext(loaded.rows));
    this.cols = loaded.columns;
    this.list = loaded.rows;
    this.identity = identityOf(this.file);
    this.opts.onReplaced?.({ file: this.file, how, removed, added });
  }
}

/** One past the highest iteration of `rows`, 0 when none. */
function maxNext(rows: readonly LedgerRow[]): number {
  return rows.reduce((next, row) => Math.max(next, row.iteration + 1), 0);
}

/** The columns and rows of `bytes` (the file's content, null: missing), writing the file when it must be created, repaired or upgraded. */
async function loadLedger(file: string, initial: Buffer | null, opts: LedgerOptions): Promise<Loaded> {
  let bytes = initial;
  let parsed = parseLedgerText(bytes?.toString('utf8') ?? '', file);

  if (parsed.tornTail !== null && bytes !== null) {
    bytes = await repairTornTail(file, bytes, opts);
    parsed = parseLedgerText(bytes.toString('utf8'), file);
  }

  const guards = usableGuardColumns(opts.guards ?? []);
  if (parsed.columns.length === 0) {
    // Missing or empty (possibly after the repair): start the ledger with our header.
    const columns = [...LEDGER_COLUMNS, ...guards];
    await writeFileDurable(file, formatHeader(columns));
    return { columns, rows: [] };
  }

  const from = parsed.columns;
  if (from.length < LEDGER_COLUMNS.length && from.every((name, i) => name === LEDGER_COLUMNS[i])) {
    // A prefix of ours, e.g. the seed's 4 columns: rewrite with the full header so every
    // row has the same shape. Seed rows keep their values; their iteration is their index.
    const to = [...LEDGER_COLUMNS, ...guards];
    const text = formatHeader(to) + parsed.rows.map((row) => formatRow(row, to)).join('');
    await writeFileDurable(file, text);
    opts.onUpgrade?.({ file, from, to });
    return { columns: to, rows: parseLedgerText(text, file).rows };
  }
  const missing = hasEveryColumnOfOurs(from) ? guards.filter((g) => !from.includes(g)) : [];
  if (missing.length > 0) {
    // Ours, lacking a guard column the config now names: the column goes at the end.
    const to = [...from, ...missing];
    const text = withEmptyColumns(bytes?.toString('utf8') ?? '', from.length, to);
    await writeFileDurable(file, text);
    opts.onUpgrade?.({ file, from, to });
    return { columns: to, rows: parseLedgerText(text, file).rows };
  }
  // Ours, or the seed's columns followed by someone else's: append in the file's order.
  return { columns: from, rows: parsed.rows };
}

/**
 * `text` (complete lines) under the header `to`, with an empty field added to each line that
 * has the old header's `width` fields (our rows). Line by line rather than row by row: other
 * lines (rows the skill wrote, their continuation lines) and the text of columns another tool
 * added stay exactly as they were.
 */
function withEmptyColumns(text: string, width: number, to: readonly string[]): string {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n').slice(1, -1);
  const added = '\t'.repeat(to.length - width);
  const body = lines.map((raw) => {
    const line = raw.replace(/\r$/, '');
    return line.split('\t').length === width ? `${line}${added}\n` : `${line}\n`;
  });
  return formatHeader(to) + body.join('');
}

function identityOf(file: string): FileIdentity {
  const st = fsSync.statSync(file);
  return { dev: st.dev, ino: st.ino, size: st.size };
}

function statIfExists(file: string): fsSync.Stats | null {
  try {
    return fsSync.statSync(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

function formatHeader(columns: readonly string[]): string {
  return `${columns.join('\t')}\n`;
}

/**
 * Save the unterminated last line next to the ledger, then cut it off. In that order: a
 * crash in between leaves the tail in place, and the next open saves it again.
 */
async function repairTornTail(file: string, bytes: Buffer, opts: LedgerOptions): Promise<Buffer> {
  const keep = bytes.lastIndexOf(0x0a) + 1;
  const torn = bytes.subarray(keep); // raw bytes: the cut may fall inside a UTF-8 character
  const stamp = new Date((opts.clock ?? systemClock).now()).toISOString().replaceAll(':', '-');
  const savedTo = `${file}.torn-${stamp}`;
  await writeFileDurable(savedTo, torn);

  let handle: fs.FileHandle | undefined;
  let operation = `open ${file} to cut its torn last line`;
  try {
    handle = await fs.open(file, 'r+');
    operation = `truncate ${file} to ${keep} bytes`;
    await handle.truncate(keep);
    operation = `fsync ${file}`;
    // The cut must be on disk before rows are appended after it.
    await handle.sync();
  } catch (error) {
    throw new AutoresearchError('DURABILITY', `${operation} failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    await handle?.close().catch(() => undefined); // after a failed sync the error above is what matters
  }
  opts.onRepair?.({ file, tornBytes: torn.length, savedTo });
  return bytes.subarray(0, keep);
}

async function readBytesIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}
