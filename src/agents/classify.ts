/**
 * Did an agent turn run out of LLM quota? Classifies one finished agent process as
 *   ok          the turn ran
 *   exhausted   a quota window is used up: roll back, no row, wait until resetAt (null: back off)
 *   billing     no credit or no plan: block until the user acts
 *   auth        not logged in / no API key: block until the user acts; the message names the
 *               variable to pass through `agent_pass_env`
 *   transient   overload, 5xx, per-minute limits: retry shortly (retryAfterMs if the CLI said)
 *   failure     anything else that went wrong: a crash, logged verbatim (`message`); with a
 *               `signature` when we know what it was (refused tool calls, an untrusted folder)
 *
 * Order of evidence: the CLI's structured output first (Claude result / stream-json events,
 * Codex --json events, Gemini JSON and stream-json), then the signature table's text
 * patterns over stderr, the non-JSON lines of stdout, and the error texts of those events.
 * The model's own words (assistant messages, a successful result) are never searched, so
 * an agent that writes about rate limits is not mistaken for one that hit them.
 * Precedence: auth > billing > exhausted > transient > refused > the exit code. A
 * server-suggested wait over 5 minutes is a quota window, not a blip (Gemini CLI's own
 * rule): exhausted. Text rows match error text, never inside a path (`/tmp/codex-overloaded-x`
 * is not an overload): path-like tokens are blanked before matching. Exit-code rows (Gemini's
 * HTTP status mod 256) come last in the table, so any text of the same class says more.
 *
 * Exit 0 alone is never trusted for the built-in CLIs: a Claude result with is_error:true,
 * a Codex turn.failed or a Gemini error at exit 0 is not ok, and neither is a successful
 * turn that reports a rejected quota window or a switch to another model. A turn that
 * finished successfully is not retried for transient errors it printed on the way.
 * A `command` agent (the user's own command, which may wrap a CLI) is judged by its exit
 * code: 0 is ok; otherwise every signature of every CLI applies.
 *
 * Input size: the caller passes at most the last ~256 KiB of each stream. Everything here
 * is linear in that (regexes without nested backtracking, bounded JSON recovery).
 */
import { parseAgentReport } from './agent-report.js';
import { isObject, splitOutput, type JsonObject } from './output-json.js';
import type { ResetContext } from './reset-time.js';
import { parseResetTime } from './reset-time.js';
import { AUTH_HINTS, SIGNATURES, type AgentKind, type EventHit, type Signature, type SignatureClass } from './signatures.js';

export type { AgentKind } from './signatures.js';

export interface AgentRun {
  agent: AgentKind;
  exitCode: number | null;
  signal: string | null;
  stdout: string; // the last ~256 KiB
  stderr: string; // the last ~256 KiB
}

export type AgentVerdict =
  | { kind: 'ok' }
  | { kind: 'exhausted'; resetAt: number | null; signature: string; message: string }
  | { kind: 'billing'; signature: string; message: string }
  | { kind: 'auth'; signature: string; message: string }
  | { kind: 'transient'; retryAfterMs: number | null; signature: string; message: string }
  | { kind: 'failure'; message: string; signature?: string };

/** Gemini CLI's MAX_RETRYABLE_DELAY_SECONDS: a longer suggested wait means the quota is gone. */
export const LONG_WAIT_MS = 300_000;
const MESSAGE_MAX_CHARS = 400;
const RESET_LOOKAHEAD_LINES = 2; // `Usage limit reached for X.` then `Access resets at …` on the next line
const CLASS_RANK: Record<SignatureClass, number> = { auth: 5, billing: 4, exhausted: 3, transient: 2, refused: 1 };
/** Characters that end a token when looking for paths (quotes, brackets, spaces, …). */
const TOKEN_END = new Set([...' \t\r\n"\'`()<>[]{},;=|']);
/** A token that is a path: `/tmp/codex-overloaded-x/out.log`, `src/a.ts`, a URL; not `/login`. */
const PATH_SHAPE = /^[\w.~:@+-]*(?:\/[\w.@+-]*)+$/;

interface Evidence {
  signature: Signature;
  class: SignatureClass; // may differ from the row's: a long transient wait is exhausted
  message: string;
  resetAt: number | null;
  retryAfterMs: number | null;
  rank: number; // the row's place in the table: the tie-breaker
}

export function classifyAgentRun(run: AgentRun, ctx: ResetContext): AgentVerdict {
  const exitedCleanly = run.exitCode === 0 && run.signal === null;
  if (run.agent === 'command' && exitedCleanly) return { kind: 'ok' };

  const stdout = splitOutput(run.stdout);
  const stderr = splitOutput(run.stderr);
  const events = [...stdout.objects, ...stderr.objects];
  const errors = errorTexts(events);
  const searched = [stderr.text.join('\n'), stdout.text.join('\n'), ...errors.map((e) => e.text)].filter((t) => t !== '');
  const replies = successfulReplies(events);

  const humanError = readableError(errors.filter((e) => e.human).at(-1)?.text);
  const rows = SIGNATURES.filter((s) => (run.agent === 'command' ? s.builtinOnly !== true : s.agents.some((a) => a === run.agent)));
  const evidence = rows.flatMap((row, rank) => {
    const hit = evidenceOf(row, run, { events, searched, replies, humanError }, ctx);
    return hit === null ? [] : [{ ...hit, rank }];
  });

  const report = run.agent === 'command' ? null : parseAgentReport(run.agent, run.stdout);
  const turnSucceeded = exitedCleanly && report?.isError === false;
  // A turn that finished was logged in and got past any blip it printed on the way.
  const best = strongest(turnSucceeded ? evidence.filter((e) => e.class !== 'transient' && e.class !== 'auth') : evidence);
  if (best !== null) return verdictOf(best, run.agent);

  if (!exitedCleanly) return { kind: 'failure', message: failureMessage(run, humanError) };
  if (report?.isError === true) return { kind: 'failure', message: failureMessage(run, humanError ?? report.resultText ?? undefined) };
  return { kind: 'ok' };
}

// ---------------------------------------------------------------------------------------
// Evidence

interface Seen {
  events: readonly JsonObject[];
  searched: readonly string[]; // error text: stderr, non-JSON stdout, structured error texts
  replies: readonly string[]; // successful results, for `inReply` rows only
  humanError: string | undefined;
}

function evidenceOf(row: Signature, run: AgentRun, seen: Seen, ctx: ResetContext): Omit<Evidence, 'rank'> | null {
  const match = row.match;
  switch (match.kind) {
    case 'event':
      return eventEvidence(row, match.test, seen.events, ctx);
    case 'events': {
      const hit = match.test(seen.events);
      return hit === null ? null : timed(row, clip(hit.message), hit.resetAt, ctx);
    }
    case 'text': {
      const hit = textEvidence(row, match.pattern, match.inReply === true ? [...seen.searched, ...seen.replies] : seen.searched, ctx);
      // gemini's stderr line is `Error when talking to Gemini API Full report available at:
      // <path> TerminalQuotaError: …`; the JSON it prints after it says the same cleanly.
      return hit !== null && run.agent === 'gemini' ? { ...hit, message: seen.humanError ?? withoutGeminiPreamble(hit.message) } : hit;
    }
    case 'exit': {
      // Only the CLI itself exits with these meanings; a user's command may use any code.
      if (run.agent === 'command' || run.exitCode === null || !match.codes.includes(run.exitCode)) return null;
      const said = seen.humanError ?? lastLines(run.stderr).split('\n').at(-1) ?? '';
      return timed(row, clip(`${run.agent} ${match.says}${said === '' ? '' : `: ${said}`}`), null, ctx);
    }
    default: {
      const unreachable: never = match;
      return unreachable;
    }
  }
}

function eventEvidence(
  signature: Signature,
  test: (event: JsonObject, ctx: ResetContext) => EventHit | null,
  events: readonly JsonObject[],
  ctx: ResetContext,
): Omit<Evidence, 'rank'> | null {
  let last: EventHit | null = null;
  for (const event of events) last = test(event, ctx) ?? last; // the latest event is the current state
  return last === null ? null : timed(signature, clip(last.message), last.resetAt, ctx);
}

/** The first match in `texts`; its line (and the next ones, for a reset time) is the message. */
function textEvidence(signature: Signature, pattern: RegExp, texts: readonly string[], ctx: ResetContext): Omit<Evidence, 'rank'> | null {
  for (const text of texts) {
    const match = pattern.exec(withoutPaths(text));
    if (match === null) continue;
    const lines = linesFrom(text, match.index, RESET_LOOKAHEAD_LINES + 1);
    if (signature.ignoresStatedTime === true) return timed(signature, clip(lines[0] ?? ''), null, ctx);
    for (let n = 1; n <= lines.length; n++) {
      const window = lines.slice(0, n).join('\n');
      const resetAt = parseResetTime(window, ctx);
      if (resetAt !== null) return timed(signature, clip(window), resetAt, ctx);
    }
    return timed(signature, clip(lines[0] ?? ''), null, ctx);
  }
  return null;
}

/**
 * `text` with its path-like tokens blanked, same length (match indices stay valid). A
 * character scan, not one regex over the text: linear on 256 KiB without a slash or a space.
 */
function withoutPaths(text: string): string {
  if (!text.includes('/')) return text;
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && !TOKEN_END.has(text[i] ?? '')) continue;
    const token = text.slice(start, i);
    parts.push(isPath(token) ? ' '.repeat(token.length) : token);
    if (i < text.length) parts.push(text[i] ?? '');
    start = i + 1;
  }
  return parts.join('');
}

function isPath(token: string): boolean {
  const slash = token.indexOf('/');
  if (slash < 0) return false;
  const bare = token.replace(/[.:,]+$/, ''); // `…/out.log:` at the end of a sentence
  // one leading slash and nothing else (`/login`) is a command, not a path
  return (slash > 0 || bare.indexOf('/', 1) > 0) && PATH_SHAPE.test(bare);
}

/** Up to `count` lines of `text`, starting with the one that contains `index`. */
function linesFrom(text: string, index: number, count: number): string[] {
  const lines: string[] = [];
  let start = text.lastIndexOf('\n', index) + 1;
  while (lines.length < count && start <= text.length) {
    const end = text.indexOf('\n', start);
    lines.push(text.slice(start, end < 0 ? text.length : end));
    if (end < 0) break;
    start = end + 1;
  }
  return lines;
}

function timed(signature: Signature, message: string, resetAt: number | null, ctx: ResetContext): Omit<Evidence, 'rank'> {
  if (signature.class !== 'transient') return { signature, class: signature.class, message, resetAt, retryAfterMs: null };
  const retryAfterMs = resetAt === null ? (signature.defaultRetryAfterMs ?? null) : Math.max(0, resetAt - ctx.now);
  if (retryAfterMs !== null && retryAfterMs > LONG_WAIT_MS) {
    return { signature, class: 'exhausted', message, resetAt: ctx.now + retryAfterMs, retryAfterMs: null };
  }
  return { signature, class: 'transient', message, resetAt: null, retryAfterMs };
}

/** Highest class; then evidence that says when; then the earlier table row. */
function strongest(evidence: readonly Evidence[]): Evidence | null {
  let best: Evidence | null = null;
  for (const e of evidence) if (best === null || compare(e, best) < 0) best = e;
  return best;
}

function compare(a: Evidence, b: Evidence): number {
  const knowsWhen = (e: Evidence): number => (e.resetAt !== null || e.retryAfterMs !== null ? 1 : 0);
  return CLASS_RANK[b.class] - CLASS_RANK[a.class] || knowsWhen(b) - knowsWhen(a) || a.rank - b.rank;
}

function verdictOf(e: Evidence, agent: AgentKind): AgentVerdict {
  switch (e.class) {
    case 'auth': {
      const said = e.message.replace(/\s*\n\s*/g, ' ');
      return { kind: 'auth', signature: e.signature.id, message: `${agent} is not logged in: ${AUTH_HINTS[agent]} (it said: ${said})` };
    }
    case 'refused': {
      const hint = e.signature.hint;
      return { kind: 'failure', signature: e.signature.id, message: hint === undefined ? e.message : `${e.message}; ${hint}` };
    }
    case 'exhausted':
      return { kind: 'exhausted', resetAt: e.resetAt, signature: e.signature.id, message: e.message };
    case 'billing':
      return { kind: 'billing', signature: e.signature.id, message: e.message };
    case 'transient':
      return { kind: 'transient', retryAfterMs: e.retryAfterMs, signature: e.signature.id, message: e.message };
    default: {
      const unreachable: never = e.class;
      return unreachable;
    }
  }
}

// ---------------------------------------------------------------------------------------
// What structured output says went wrong

interface ErrorText {
  text: string;
  human: boolean; // a message meant for people (false: a JSON error body, kept for its codes)
}

/**
 * The error texts of structured events: a failed Claude result, a Claude notice posing as
 * an assistant message, Codex `error` / `turn.failed`, Gemini `error` events and documents,
 * and any `{error:{…}}` body (whole, so its codes and retry delays can be matched).
 */
function errorTexts(events: readonly JsonObject[]): ErrorText[] {
  const found: ErrorText[] = [];
  const human = (value: unknown): void => {
    if (typeof value === 'string' && value.trim() !== '') found.push({ text: value, human: true });
  };
  for (const raw of events) {
    const event = isObject(raw['msg']) ? raw['msg'] : raw; // Codex's older stream wraps events in `msg`
    switch (event['type']) {
      case 'result':
        if (event['is_error'] === true) human(event['result']);
        break;
      case 'error':
        human(event['message']);
        break;
      case 'turn.failed':
        human(isObject(event['error']) ? event['error']['message'] : undefined);
        break;
      case 'assistant':
        if (isClaudeNotice(event)) for (const t of assistantTexts(event)) human(t);
        break;
    }
    if (isObject(event['error'])) {
      human(event['error']['message']);
      found.push({ text: JSON.stringify(event), human: false });
    }
  }
  return found;
}

/** Claude writes limit and API errors as an assistant message from the model `<synthetic>`. */
function isClaudeNotice(event: JsonObject): boolean {
  const message = isObject(event['message']) ? event['message'] : {};
  return message['model'] === '<synthetic>' || event['isApiErrorMessage'] === true || typeof event['error'] === 'string';
}

function assistantTexts(event: JsonObject): string[] {
  const content = isObject(event['message']) ? event['message']['content'] : undefined;
  if (!Array.isArray(content)) return [];
  return content.filter(isObject).flatMap((block) => (typeof block['text'] === 'string' ? [block['text']] : []));
}

/** Claude results that claim success: searched only by rows marked `inReply`. */
function successfulReplies(events: readonly JsonObject[]): string[] {
  return events.flatMap((e) => (e['type'] === 'result' && e['is_error'] === false && typeof e['result'] === 'string' ? [e['result']] : []));
}

// ---------------------------------------------------------------------------------------
// Messages

/** gemini's prefix of an API error line, up to the error class name. */
const GEMINI_PREAMBLE = /^Error when talking to Gemini API(?: Full report available at: \S+)?\s*/;

function withoutGeminiPreamble(message: string): string {
  return message.replace(GEMINI_PREAMBLE, '') || message;
}

/**
 * An error text for people: a JSON error body inside it (gemini's `error.message` holds the
 * API's `{"error":{"code":500,"status":"INTERNAL","message":…}}`) becomes `500 INTERNAL: …`.
 */
function readableError(text: string | undefined): string | undefined {
  if (text === undefined || !text.trimStart().startsWith('{')) return text;
  try {
    const body: unknown = JSON.parse(text);
    const error = isObject(body) && isObject(body['error']) ? body['error'] : null;
    if (error === null || typeof error['message'] !== 'string') return text;
    const label = [error['code'], error['status']].filter((v) => typeof v === 'number' || typeof v === 'string').join(' ');
    return label === '' ? error['message'] : `${label}: ${error['message']}`;
  } catch {
    return text;
  }
}

function failureMessage(run: AgentRun, humanError: string | undefined): string {
  if (humanError !== undefined) return clip(humanError);
  const tail = lastLines(run.stderr) || lastLines(run.stdout);
  if (tail !== '') return tail;
  return run.signal !== null ? `killed by ${run.signal}, no output` : `exited with code ${String(run.exitCode)}, no output`;
}

/** The end of a stream, verbatim, from a line start, at most MESSAGE_MAX_CHARS. */
function lastLines(stream: string): string {
  const text = stream.trim();
  if (text.length <= MESSAGE_MAX_CHARS) return text;
  const tail = text.slice(-MESSAGE_MAX_CHARS);
  const lineStart = tail.indexOf('\n');
  return lineStart >= 0 && lineStart < tail.length - 1 ? tail.slice(lineStart + 1) : tail;
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MESSAGE_MAX_CHARS ? trimmed : `${trimmed.slice(0, MESSAGE_MAX_CHARS - 1)}…`;
}
