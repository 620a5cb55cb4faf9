/**
 * The metric of an evaluation (SPEC §3, `metric_grep`): the number after the last `:` on
 * the LAST line of the log that matches, as the seed skill reads it (lines tested with
 * surrounding whitespace stripped, like Python's `line.strip()`).
 *
 * Which lines match (metricMatcher): `metric_grep` is the seed skill's LITERAL prefix
 * (`line.strip().startswith(grep.lstrip("^"))`), so `score(%)`, `acc[top1]` and `c++` are
 * plain text; `metric_regex` (ours) is a JavaScript regular expression and wins when set.
 *
 * Unlike the seed, a last matching line without a valid number is `invalid`: we never fall
 * back to an earlier line, which would credit the change with a stale value.
 *
 * Logs can be hundreds of MB and the metric is printed at the end, so the file is read
 * backwards in fixed-size chunks and the scan stops at the first (i.e. last) match.
 */
import fs from 'node:fs/promises';
import { isErrno } from '../fs/durable.js';

/** `why` (invalid): what was found instead of one number token, for the crash reason. */
export type MetricResult = { kind: 'ok'; value: number; line: string } | { kind: 'missing' } | { kind: 'invalid'; line: string; why: string };

const CHUNK_BYTES = 64 * 1024;
/** A longer line is output (a progress dump, a tensor), not a metric line: skipped unbuffered. */
const MAX_LINE_BYTES = 64 * 1024;

/** A leading decimal or exponent number; what follows it may be a unit. */
const LEADING_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

/** Whether a (trimmed) log line is the metric line. */
export type MetricMatcher = (line: string) => boolean;

/**
 * `metric_regex` when set, else `metric_grep` with the seed's semantics. Configs written by
 * an earlier `autoresearch init` hold a regex-escaped metric_grep (`^val\.bpb:`), which the
 * seed would read literally and never match: a backslash before a regex metacharacter is
 * also tried without it (`val.bpb:`), so those experiments keep working. No real output
 * line starts with the escaped text, so the extra prefix never changes what a seed-written
 * metric_grep matches.
 */
export function metricMatcher(grep: string, regex: string | null): MetricMatcher {
  if (regex !== null) return regexMatcher(new RegExp(regex));
  const prefixes = seedPrefixes(grep);
  return prefixes.length === 1 ? (line) => line.startsWith(prefixes[0] ?? '') : (line) => prefixes.some((p) => line.startsWith(p));
}

/** The literal prefix(es) a metric_grep stands for: `grep.lstrip("^")`, and its unescaped form. */
export function seedPrefixes(grep: string): string[] {
  const literal = grep.replace(/^\^+/, '');
  const unescaped = literal.replace(/\\([.*+?^${}()|[\]\\\/-])/g, '$1');
  return unescaped === literal ? [literal] : [literal, unescaped];
}

/** How a matcher is described to users: `/regex/` or the literal prefix in backticks. */
export function describeMetricMatch(grep: string, regex: string | null): string {
  return regex !== null ? `/${regex}/ (metric_regex)` : `lines starting with \`${seedPrefixes(grep).at(-1) ?? ''}\` (metric_grep)`;
}

function regexMatcher(grep: RegExp): MetricMatcher {
  // Without g/y, test() keeps no lastIndex between lines (a shared /g regex would skip matches).
  const pattern = new RegExp(grep.source, grep.flags.replace(/[gy]/g, ''));
  return (line) => pattern.test(line);
}

export async function extractMetric(logFile: string, match: RegExp | MetricMatcher): Promise<MetricResult> {
  const matches = match instanceof RegExp ? regexMatcher(match) : match;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(logFile, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'missing' };
    throw error;
  }
  try {
    let found: string | undefined;
    await scanLinesBackwards(handle, logFile, (line) => {
      if (!matches(line)) return false;
      found = line;
      return true;
    });
    return found === undefined ? { kind: 'missing' } : parseMetricLine(found);
  } finally {
    await handle.close();
  }
}

/**
 * The value of a matching (trimmed) line: the text after its last `:`, which must be ONE
 * number token, optionally followed by a unit. The seed does `float(value)`, so `3/4` or
 * `5-3` crash there too; reading their first number would credit the change with a value
 * the evaluation never meant.
 */
export function parseMetricLine(line: string): MetricResult {
  const text = line.slice(line.lastIndexOf(':') + 1).trim(); // no `:` → the whole line, as the seed does
  const number = LEADING_NUMBER.exec(text)?.[0];
  if (number === undefined) return invalid(line, text === '' ? 'expected a number after the last `:`, found nothing' : `expected a number after the last \`:\`, found ${JSON.stringify(clip(text))}`); // also nan, inf, Infinity
  const rest = text.slice(number.length);
  const value = Number(number);
  if (!Number.isFinite(value)) return invalid(line, `expected a finite number, found ${JSON.stringify(number)} (out of range)`);
  if (!isUnit(number, rest)) return invalid(line, `expected one number optionally followed by a unit, found ${JSON.stringify(clip(text))} (${JSON.stringify(clip(rest.trim()))} after ${number} reads as part of a number)`);
  return { kind: 'ok', value, line };
}

function invalid(line: string, why: string): MetricResult {
  return { kind: 'invalid', line, why };
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * What follows the number is a unit only if it cannot be read as part of a number:
 * `1.5 ms`, `12ms`, `97%`, `1.5x`, `0.9979 bpb` are a number and a unit; `1.2.3`, `1,234`,
 * `1e`, `0x1F`, `3/4`, `5-3`, `2*3`, `2^10`, `3 / 4`, `0.5 - 0.1` are not one number we can
 * read unambiguously. After whitespace, a unit must not be a number or an operator and a number
 * (`0.99 - best` is a number and a note).
 */
function isUnit(number: string, rest: string): boolean {
  if (rest === '') return true;
  const spaced = /^\s/.test(rest);
  const unit = rest.trimStart();
  if (spaced) return !/^(?:\d|\.\d|[+\-\/*^×÷]\s*\.?\d|[eE][+-]?\d)/.test(unit);
  if (/^[\d.,_eE+\-\/*^×÷]/.test(unit)) return false;
  return !(/^[+-]?0$/.test(number) && /^[xXbBoO]/.test(unit));
}

/**
 * Calls `visit` with the file's lines from last to first, trimmed, empty ones skipped,
 * until it returns true. Both `\n` and `\r` end a line, as in Python's splitlines(): a CRLF
 * log, or a progress bar redrawn with `\r` right before the metric, still yields the
 * metric line on its own. Synchronous per chunk: a no-match scan of 100 MB visits millions
 * of lines, and a promise per line would cost seconds.
 */
async function scanLinesBackwards(handle: fs.FileHandle, file: string, visit: (line: string) => boolean): Promise<void> {
  const { size } = await handle.stat();
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  // The line being assembled across chunks: its later bytes, in file order (copies).
  let tail: Buffer[] = [];
  let tailBytes = 0;

  /** `head` + tail is a whole line: test it (unless too long), then start a new one. */
  const complete = (head: Buffer): boolean => {
    const bytes = head.length + tailBytes;
    const line = bytes > MAX_LINE_BYTES ? '' : Buffer.concat([head, ...tail]).toString('utf8').trim();
    tail = [];
    tailBytes = 0;
    return line !== '' && visit(line);
  };

  let position = size;
  while (position > 0) {
    const length = Math.min(CHUNK_BYTES, position);
    position -= length;
    const chunk = buffer.subarray(0, length);
    await readExactly(handle, chunk, position, file);

    const first = firstSeparator(chunk);
    if (first < 0) {
      keepForLine(chunk);
      continue;
    }
    const last = Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d));
    if (complete(chunk.subarray(last + 1))) return;
    // Between the first and last separator: whole lines, at most one chunk long. Both ends
    // are separators, so the decoded range never cuts a UTF-8 character.
    if (first < last) {
      const lines = chunk.toString('utf8', first + 1, last).split(/[\r\n]/);
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = (lines[i] ?? '').trim();
        if (line !== '' && visit(line)) return;
      }
    }
    keepForLine(chunk.subarray(0, first));
  }
  complete(Buffer.alloc(0)); // the file's first line

  /** Bytes that end a line whose start is in an earlier chunk. Too long a line is only counted. */
  function keepForLine(bytes: Buffer): void {
    tailBytes += bytes.length;
    if (tailBytes > MAX_LINE_BYTES) tail = [];
    else if (bytes.length > 0) tail.unshift(Buffer.from(bytes)); // a copy: the buffer is reused
  }
}

function firstSeparator(chunk: Buffer): number {
  const lf = chunk.indexOf(0x0a);
  const cr = chunk.indexOf(0x0d);
  return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
}

async function readExactly(handle: fs.FileHandle, into: Buffer, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error(`${file}: expected ${into.length - done} more bytes at offset ${position + done}, found the end of the file (did the log shrink while being read?)`);
    done += bytesRead;
  }
}
