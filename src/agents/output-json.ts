/**
 * The JSON inside an agent CLI's output stream, and the plain text around it. Handles
 *   - NDJSON, one event a line (Claude stream-json, Codex --json, Gemini stream-json);
 *   - one document, compact or pretty-printed over many lines, possibly after log lines
 *     (Claude and Gemini --output-format json; Gemini prints its JSON error on stderr);
 *   - a JSON array of events (Claude `--output-format json --verbose`);
 *   - an event spliced into the middle of another line (claude-code #49640: a
 *     rate_limit_event written inside the text of an assistant event).
 * Lines that start like JSON but do not parse are neither events nor text: they are
 * mostly fragments of the model's own words. Never throws; linear in the input (the
 * recovery of spliced events is bounded).
 */

export type JsonObject = Record<string, unknown>;

export interface SplitOutput {
  objects: JsonObject[]; // in output order
  text: string[]; // the lines that are not JSON
}

const MAX_PRETTY_LINES = 5_000; // how far to look for the closing line of a pretty-printed document
const MAX_EMBEDDED_CHARS = 64 * 1024; // a spliced event is small
const MAX_EMBEDDED_ATTEMPTS = 64; // per broken line
const EMBEDDED_START = '{"type":"';

export function splitOutput(output: string): SplitOutput {
  const objects: JsonObject[] = [];
  const text: string[] = [];
  const whole = output.trim();
  if (whole.startsWith('{') || whole.startsWith('[')) {
    const value = tryParse(whole);
    if (value !== undefined) return { objects: collect(value), text };
  }
  const lines = output.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
      text.push(line);
      continue;
    }
    const value = tryParse(trimmed);
    if (value !== undefined) {
      objects.push(...collect(value));
      continue;
    }
    const end = trimmed.length === 1 ? prettyEnd(lines, i) : -1;
    if (end > i) {
      const document = tryParse(lines.slice(i, end + 1).join('\n'));
      if (document !== undefined) {
        objects.push(...collect(document));
        i = end;
        continue;
      }
    }
    objects.push(...embeddedObjects(trimmed));
  }
  return { objects, text };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // not JSON: the caller treats it as text or a broken line
  }
}

function collect(value: unknown): JsonObject[] {
  if (isObject(value)) return [value];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** A line that is just `{` or `[` opens a pretty-printed document closed at the same indent. */
function prettyEnd(lines: readonly string[], start: number): number {
  const open = lines[start] ?? '';
  const indent = open.slice(0, open.length - open.trimStart().length);
  const closing = indent + (open.trim() === '{' ? '}' : ']');
  const last = Math.min(lines.length - 1, start + MAX_PRETTY_LINES);
  for (let j = start + 1; j <= last; j++) if ((lines[j] ?? '').trimEnd() === closing) return j;
  return -1;
}

/** Whole `{"type":"...` objects inside a line that does not parse as a whole. */
function embeddedObjects(line: string): JsonObject[] {
  const found: JsonObject[] = [];
  let from = 0;
  for (let attempt = 0; attempt < MAX_EMBEDDED_ATTEMPTS; attempt++) {
    const start = line.indexOf(EMBEDDED_START, from);
    if (start < 0) break;
    const end = balancedEnd(line, start);
    const value = end > 0 ? tryParse(line.slice(start, end)) : undefined;
    if (isObject(value)) {
      found.push(value);
      from = end;
    } else {
      from = start + 1;
    }
  }
  return found;
}

/** The index just past the brace that closes the object opened at `start`, or -1. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  const stop = Math.min(text.length, start + MAX_EMBEDDED_CHARS);
  for (let i = start; i < stop; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
