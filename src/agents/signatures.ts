/**
 * How each agent CLI says that its LLM quota ran out, that there is no credit, or that the
 * service is briefly unavailable. One row per known signature, collected in
 * ../shared/research/llm-cli-exhaustion.md; wording changes often, so a new one is a new
 * row here (and unknown failures are logged verbatim by the caller to find it).
 *
 * A row matches either one parsed JSON event (`event`) or the CLI's error text (`text`).
 * Text rows never see the model's own words: classify.ts feeds them stderr, stdout lines
 * that are not JSON, and the error texts of structured events (a failed Claude result, a
 * Codex `turn.failed`, a Gemini `error`, …). A row marked `inReply` is distinctive enough
 * to be trusted inside the text of a successful Claude result too.
 *
 * A row may also match the exit code of a built-in CLI (`exit`): Gemini exits with the HTTP
 * status mod 256, which is evidence, never stronger than what the text says.
 *
 * Classes (classify.ts picks auth > billing > exhausted > transient > refused):
 *   auth       not logged in / no API key: nothing works until the user logs in or passes a key
 *   billing    no credit or no plan: nothing resets by itself
 *   exhausted  a quota window is used up; it resets (often at a stated time)
 *   transient  overload, 5xx, per-minute limits: retry shortly
 *   refused    the CLI ran but refused the tool calls it needed (permissions, an untrusted
 *              folder): a failed turn with a message saying why, never `no change`
 */
import type { JsonObject } from './output-json.js';
import { isObject } from './output-json.js';
import { parseResetTime, type ResetContext } from './reset-time.js';

export type AgentKind = 'claude' | 'codex' | 'gemini' | 'command';
export type BuiltinAgent = Exclude<AgentKind, 'command'>;
export type SignatureClass = 'auth' | 'billing' | 'exhausted' | 'transient' | 'refused';

/** What an event row found: the human message, and when to come back if it says. */
export interface EventHit {
  message: string;
  resetAt: number | null; // epoch ms
}

export type Matcher =
  | { kind: 'text'; pattern: RegExp; inReply?: boolean }
  | { kind: 'event'; test: (event: JsonObject, ctx: ResetContext) => EventHit | null } // the latest event that matches
  | { kind: 'events'; test: (events: readonly JsonObject[]) => EventHit | null } // the whole stream at once
  | { kind: 'exit'; codes: readonly number[]; says: string }; // a built-in CLI's own exit code (never a command agent's)

export interface Signature {
  id: string;
  agents: readonly BuiltinAgent[]; // a `command` agent (which may wrap any CLI) is checked against all rows
  class: SignatureClass;
  match: Matcher;
  describe: string;
  defaultRetryAfterMs?: number; // transient rows whose text states no delay (the CLI's own default)
  ignoresStatedTime?: boolean; // a time near the match is not this limit's reset
  hint?: string; // `refused` rows: what the user can do, appended to the message
  builtinOnly?: boolean; // too generic for a `command` agent's output (its own test runs print these)
}

const ALL: readonly BuiltinAgent[] = ['claude', 'codex', 'gemini'];
const GEMINI_TRUST_HINT =
  'gemini did not trust the worktree folder although autoresearch sets GEMINI_CLI_TRUST_WORKSPACE=true (unless your environment sets it): ' +
  'remove GEMINI_CLI_TRUST_WORKSPACE=false from the environment, or add --skip-trust to agent_args';
const text = (pattern: RegExp, inReply = false): Matcher => ({ kind: 'text', pattern, inReply });
/** Claude's wording for a per-minute rate limit: not a usage window (2.1.x). */
// A request-rate limit, not a quota window: the server says so, or an API key's account
// rate limit (API keys have per-minute limits and spend limits, no 5-hour windows).
const NOT_USAGE_LIMIT = /\bnot your usage limit\b|\bServer is temporarily limiting requests\b|\bexceed your account['’]s rate limit\b/i;

export const SIGNATURES: readonly Signature[] = [
  // ---- Any CLI: not logged in -------------------------------------------------------------
  {
    id: 'auth.not-logged-in',
    agents: ALL,
    class: 'auth',
    match: text(/\bNot logged in\b|\bPlease run \/login\b|\bInvalid API key\b|\binvalid x-api-key\b/i),
    describe: 'claude `Not logged in · Please run /login`, `Invalid API key · Please run /login`',
  },
  {
    // A blocked experiment needs the user: a `command` agent whose own tests print
    // "401 Unauthorized" and fail must be a crash row, not a block.
    id: 'auth.http-401',
    agents: ALL,
    builtinOnly: true,
    class: 'auth',
    match: text(/\b401 Unauthorized\b|\bauthentication_error\b/i),
    describe: 'codex `401 Unauthorized`; the API\'s `authentication_error` (built-in agents only)',
  },
  {
    id: 'codex.missing-key',
    agents: ['codex'],
    class: 'auth',
    match: text(/\bMissing (?:environment variable:? )?`?(?:OPENAI|CODEX)_API_KEY\b|\b(?:OPENAI|CODEX)_API_KEY\b[^\n]{0,40}\b(?:is not set|not found|missing)\b/i),
    describe: 'codex with an API-key provider and no key: `Missing environment variable: `OPENAI_API_KEY``',
  },
  {
    id: 'gemini.no-api-key',
    agents: ['gemini'],
    class: 'auth',
    match: text(/\bGEMINI_API_KEY environment variable\b|\bPlease set an Auth method\b/i),
    describe: 'gemini without credentials: `… specify the GEMINI_API_KEY environment variable`, `Please set an Auth method …`',
  },
  {
    id: 'gemini.exit-41',
    agents: ['gemini'],
    class: 'auth',
    match: { kind: 'exit', codes: [41], says: 'exit 41: authentication failed or no credentials' },
    describe: 'gemini exit 41 (FatalAuthenticationError)',
  },

  // ---- Claude Code: structured ------------------------------------------------------------
  {
    id: 'claude.rate-limit-event.rejected',
    agents: ['claude'],
    class: 'exhausted',
    match: { kind: 'event', test: rejectedRateLimitEvent },
    describe:
      'stream-json rate_limit_event with status "rejected" (unless extra usage is allowed to take over), or ' +
      'isUsingOverage with overageStatus "rejected" (overageStatus "rejected" alone is the steady state of ' +
      'accounts without extra credit)',
  },
  {
    id: 'claude.result.api-429',
    agents: ['claude'],
    class: 'exhausted',
    match: { kind: 'event', test: (e, ctx) => failedResult(e, ctx, (status) => status === 429 && !saysNotUsageLimit(e)) },
    describe:
      'result with is_error:true and api_error_status 429 (even with subtype "success" and exit 0), unless it says ' +
      '"not your usage limit" (claude.rate-limited)',
  },
  {
    id: 'claude.result.blocking-limit',
    agents: ['claude'],
    class: 'exhausted',
    match: { kind: 'event', test: (e, ctx) => (e['terminal_reason'] === 'blocking_limit' ? resultHit(e, ctx) : null) },
    describe: 'result with terminal_reason "blocking_limit"',
  },
  {
    id: 'claude.permission-denials',
    agents: ['claude'],
    class: 'refused',
    match: { kind: 'event', test: (e) => claudePermissionDenials(e) },
    describe:
      'result with a non-empty permission_denials [{tool_name, tool_input}] (exit 0, is_error false): Claude Code ' +
      'refuses Edit/Write/`sed -i` on paths with a `.git` component, and tools outside --allowedTools',
  },
  {
    id: 'claude.result.api-5xx',
    agents: ['claude'],
    class: 'transient',
    match: { kind: 'event', test: (e, ctx) => failedResult(e, ctx, (status) => status >= 500 && status <= 599) },
    describe: 'result with is_error:true and api_error_status 5xx (529 = overloaded)',
  },

  // ---- Claude Code: text ------------------------------------------------------------------
  {
    id: 'claude.usage-limit-epoch',
    agents: ['claude'],
    class: 'exhausted',
    match: text(/Claude AI usage limit reached\|\d{9,13}/, true),
    describe: 'v1.0.x: `Claude AI usage limit reached|<epoch seconds>`',
  },
  {
    id: 'claude.hit-limit',
    agents: ['claude'],
    class: 'exhausted',
    match: text(/\b(?:you(?:'|’)ve|you have) hit your\b[^\n]{0,40}?\blimit\b/i),
    describe: 'v2.x: `You\'ve hit your (session |weekly )?limit · resets 3:30am (America/New_York)`',
  },
  {
    id: 'claude.usage-limit-reached',
    agents: ['claude'],
    class: 'exhausted',
    match: text(/\bClaude (?:AI )?usage limit reached\b/i),
    describe: 'TUI: `Claude usage limit reached. Your limit will reset at 3pm (America/Bogota).`',
  },
  {
    id: 'claude.out-of-extra-usage',
    agents: ['claude'],
    class: 'exhausted',
    match: text(/\bout of extra usage\b/i),
    describe: 'short form `out of extra usage`',
  },
  {
    id: 'claude.credit-balance',
    agents: ['claude'],
    class: 'billing',
    match: text(/\bcredit balance (?:is )?too low\b/i),
    describe: 'API-key billing: `Credit balance too low · Add funds` (HTTP 400 invalid_request_error)',
  },
  {
    id: 'claude.rate-limited',
    agents: ['claude'],
    class: 'transient',
    match: text(NOT_USAGE_LIMIT),
    describe:
      'per-minute API rate limit, said outright: `API Error: Server is temporarily limiting requests (not your usage ' +
      'limit) · … Please try again in 3.5s.` (result api_error_status 429, next to a bare rate_limit_event rejected); ' +
      'with an API key: `API Error: Request rejected (429) · This request would exceed your account\'s rate limit.`',
  },
  {
    id: 'claude.rate-limit-error',
    agents: ['claude'],
    class: 'transient',
    match: text(/\brate_limit_error\b/),
    describe: 'raw 429 body `{"type":"error","error":{"type":"rate_limit_error",…}}` (API rate limit)',
  },
  {
    id: 'claude.api-5xx',
    agents: ['claude'],
    class: 'transient',
    match: text(/\bAPI Error:?\s*5\d\d\b|"type"\s*:\s*"api_error"/),
    describe: '`API Error: 529 …`, `API Error: 500 …`, a raw api_error body',
  },

  // ---- Codex CLI --------------------------------------------------------------------------
  {
    id: 'codex.usage-limit',
    agents: ['codex'],
    class: 'exhausted',
    match: text(/\bYou(?:'|’)ve hit your usage limit\b/i),
    describe:
      'UsageLimitReachedError, every plan: `You\'ve hit your usage limit. … try again at 3:28 PM.` / ' +
      '`Aug 8th, 2026 12:30 PM` / `try again in 2 days 17 hours 14 minutes` / `Try again later.`',
  },
  {
    id: 'codex.usage-limit-reached',
    agents: ['codex'],
    class: 'exhausted',
    match: text(/\busage_limit_(?:reached|exceeded)\b/),
    describe: 'backend body `{"error":{"type":"usage_limit_reached","resets_at":…,"resets_in_seconds":…}}`',
  },
  {
    id: 'codex.quota-exceeded',
    agents: ['codex'],
    class: 'billing',
    match: text(/\bQuota exceeded\. Check your plan and billing details\b|\binsufficient_quota\b/i),
    describe: 'API key without credit: `Quota exceeded. Check your plan and billing details.`',
  },
  {
    id: 'codex.usage-not-included',
    agents: ['codex'],
    class: 'billing',
    match: text(/\bTo use Codex with your ChatGPT plan, upgrade\b/i),
    describe: 'UsageNotIncluded: `To use Codex with your ChatGPT plan, upgrade to Plus…`',
  },
  {
    id: 'codex.high-demand',
    agents: ['codex'],
    class: 'transient',
    match: text(/\bexperiencing high demand\b/i),
    describe: '`We\'re currently experiencing high demand, which may cause temporary errors.`',
  },
  {
    id: 'codex.retry-limit',
    agents: ['codex'],
    class: 'transient',
    match: text(/\bexceeded retry limit, last status: \d{3}/i),
    describe: '`exceeded retry limit, last status: 429`',
  },

  {
    id: 'codex.declined',
    agents: ['codex'],
    class: 'refused',
    match: { kind: 'events', test: codexDeclined },
    describe: 'item.completed with a command_execution or file_change whose status is "declined" (sandbox / approval policy)',
  },

  // ---- Gemini CLI -------------------------------------------------------------------------
  {
    id: 'gemini.prepayment-depleted',
    agents: ['gemini'],
    class: 'billing',
    match: text(/\bprepayment credits are depleted\b/i),
    describe: '`Your prepayment credits are depleted` (HTTP 429 RESOURCE_EXHAUSTED, exit 173)',
  },
  {
    id: 'gemini.insufficient-credits',
    agents: ['gemini'],
    class: 'billing',
    match: text(/\bINSUFFICIENT_G1_CREDITS_BALANCE\b/),
    describe: 'ErrorInfo reason INSUFFICIENT_G1_CREDITS_BALANCE',
  },
  {
    id: 'gemini.terminal-quota',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bTerminalQuotaError\b/),
    describe: '`TerminalQuotaError` on stderr (exit 1 in -p mode), or as error.type in the JSON output',
  },
  {
    id: 'gemini.daily-quota',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bexhausted your daily quota\b|\breached your daily [\w.-]+ quota limit\b/i),
    describe: '`You have exhausted your daily quota on this model.`',
  },
  {
    id: 'gemini.capacity',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bexhausted your capacity on this model\b/i),
    describe: '`You have exhausted your capacity on this model. Your quota will reset after 1s.`',
  },
  {
    id: 'gemini.usage-limit-reached',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bUsage limit reached for\b/i),
    describe: '`Usage limit reached for gemini-3-flash-preview. Access resets at 10:57 PM GMT-3.`',
  },
  {
    id: 'gemini.daily-quota-id',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bquotaId["']?\s*:\s*["'][^"'\n]*(?:PerDay|Daily)/),
    describe: 'raw 429 whose QuotaFailure quotaId has PerDay/Daily',
    ignoresStatedTime: true, // its RetryInfo is a per-request hint, not the daily reset (Gemini CLI ignores it too)
  },
  {
    id: 'gemini.quota-exhausted',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bQUOTA_EXHAUSTED\b/),
    describe: 'raw 429 with ErrorInfo reason QUOTA_EXHAUSTED',
  },
  {
    id: 'gemini.model-fallback',
    agents: ['gemini'],
    class: 'exhausted',
    match: text(/\bAutomatically switching from [\w.-]+ to [\w.-]+|\bSwitched to [\w.-]+ for (?:this|the remainder of this) session\b/i),
    describe: 'a model fallback notice: the rest of the turn ran on another model (a confound)',
  },
  {
    id: 'gemini.retryable-quota',
    agents: ['gemini'],
    class: 'transient',
    match: text(/\bRetryableQuotaError\b/),
    describe: '`RetryableQuotaError` (per-minute limits, 503)',
  },
  {
    id: 'gemini.retry-delay',
    agents: ['gemini'],
    class: 'transient',
    match: text(/\bretryDelay["']?\s*[:=]\s*["']?\d|\bPlease retry in \d/i),
    describe: 'RetryInfo `retryDelay: "30s"` or `Please retry in 1m30.5s` (over 300 s: exhausted)',
  },
  {
    id: 'gemini.per-minute',
    agents: ['gemini'],
    class: 'transient',
    match: text(/\bquotaId["']?\s*:\s*["'][^"'\n]*PerMinute/),
    describe: 'a QuotaFailure quotaId with PerMinute (Gemini CLI waits 60 s)',
    defaultRetryAfterMs: 60_000,
  },
  {
    id: 'gemini.rate-limit-exceeded',
    agents: ['gemini'],
    class: 'transient',
    match: text(/\bRATE_LIMIT_EXCEEDED\b/),
    describe: 'ErrorInfo reason RATE_LIMIT_EXCEEDED (Gemini CLI waits 10 s)',
    defaultRetryAfterMs: 10_000,
  },
  {
    id: 'gemini.http-5xx',
    agents: ['gemini'],
    class: 'transient',
    match: text(/"status"\s*:\s*"INTERNAL"|\bAttempt \d+ failed with status 5\d\d\b/),
    describe: 'HTTP 500 `"status":"INTERNAL"`, after `Attempt N failed with status 500` (exit 244)',
  },
  {
    id: 'gemini.resource-exhausted',
    agents: ['gemini'],
    class: 'transient',
    match: text(/\bRESOURCE_EXHAUSTED\b/),
    describe: 'raw 429 `"status": "RESOURCE_EXHAUSTED"` without a daily quota',
  },

  {
    id: 'gemini.untrusted-folder',
    agents: ['gemini'],
    class: 'refused',
    match: text(/\bnot running in a trusted directory\b/i),
    describe: 'gemini exit 55 `… not running in a trusted directory` (autoresearch sets GEMINI_CLI_TRUST_WORKSPACE=true)',
    hint: GEMINI_TRUST_HINT,
  },
  {
    id: 'gemini.exit-55',
    agents: ['gemini'],
    class: 'refused',
    match: { kind: 'exit', codes: [55], says: 'exit 55: refuses to run in a folder it does not trust' },
    describe: 'gemini exit 55 (untrusted folder)',
    hint: GEMINI_TRUST_HINT,
  },
  {
    id: 'gemini.tool-rejected',
    agents: ['gemini'],
    class: 'refused',
    match: { kind: 'event', test: (e) => geminiRejectedTools(e) },
    describe: '--output-format json with stats.tools.totalDecisions.reject > 0 (names from stats.tools.byName.*.decisions.reject)',
  },

  // ---- Any CLI ----------------------------------------------------------------------------
  {
    id: 'http.overloaded',
    agents: ALL,
    class: 'transient',
    // not inside a name such as `codex-overloaded-run` or `overloaded.log`
    match: text(/(?<![\w./-])overloaded(?:_error)?(?![\w/-]|\.\w)/i),
    describe: '`529 Overloaded`, `overloaded_error`, `The model is overloaded`',
  },
  {
    id: 'http.5xx',
    agents: ALL,
    class: 'transient',
    match: text(/\b(?:500 Internal Server Error|502 Bad Gateway|503 Service Unavailable|504 Gateway Timeout)\b|"status"\s*:\s*"UNAVAILABLE"/i),
    describe: 'HTTP 500/502/503/504',
  },
  {
    id: 'http.429',
    agents: ALL,
    class: 'transient',
    match: text(/\b429 Too Many Requests\b/i),
    describe: 'HTTP 429 with nothing more specific',
  },
  {
    id: 'any.retry-in',
    agents: ALL,
    class: 'transient',
    match: text(/\bretry (?:in|after) \d/i),
    describe: 'a stated wait: `retry in 30s`, `retry after 12 seconds` (over 300 s: exhausted)',
  },

  // ---- Exit codes: evidence when nothing above matched (Gemini: the HTTP status mod 256) ----
  {
    id: 'gemini.exit-5xx',
    agents: ['gemini'],
    class: 'transient',
    match: { kind: 'exit', codes: [244, 246, 247, 248], says: 'an HTTP 5xx from the API (exit = status mod 256: 500 → 244, 503 → 247)' },
    describe: 'gemini exit 244/246/247/248 (HTTP 500/502/503/504 mod 256)',
  },
  {
    id: 'gemini.exit-429',
    agents: ['gemini'],
    class: 'transient',
    match: { kind: 'exit', codes: [173], says: 'HTTP 429 from the API (exit 173 = 429 mod 256)' },
    describe: 'gemini exit 173 (HTTP 429 mod 256): a rate limit unless its text says quota or billing',
  },
];

/** What a user does about an `auth` failure, per CLI: one line naming the variable to pass. */
export const AUTH_HINTS: Record<AgentKind, string> = {
  claude: 'run `claude` once and log in (/login), or set ANTHROPIC_API_KEY and add `agent_pass_env: ANTHROPIC_API_KEY` to config.cfg',
  codex: 'run `codex login`, or set OPENAI_API_KEY and add `agent_pass_env: OPENAI_API_KEY` to config.cfg',
  gemini: 'run `gemini` once and sign in, or set GEMINI_API_KEY and add `agent_pass_env: GEMINI_API_KEY` to config.cfg',
  command: 'log the CLI in, or list its API key variable (e.g. ANTHROPIC_API_KEY) in `agent_pass_env` in config.cfg',
};

// ---------------------------------------------------------------------------------------
// Refused tool calls

const LISTED_REFUSALS = 3;
const REFUSAL_DETAIL_CHARS = 60;

function claudePermissionDenials(event: JsonObject): EventHit | null {
  if (event['type'] !== 'result' || !Array.isArray(event['permission_denials'])) return null;
  const denials = event['permission_denials'].filter(isObject);
  if (denials.length === 0) return null;
  const calls = denials.map((d) => {
    const input = isObject(d['tool_input']) ? d['tool_input'] : {};
    const target = input['file_path'] ?? input['command'] ?? input['path'] ?? input['pattern'];
    return [String(d['tool_name'] ?? 'tool'), typeof target === 'string' ? target : ''].filter((s) => s !== '').join(' ');
  });
  return {
    message:
      `claude refused ${countOf(calls.length, 'tool call')} (${listed(calls)}): permission denied; Claude Code refuses ` +
      'edits to paths with a .git component and tools outside --allowedTools/--permission-mode (check agent_args)',
    resetAt: null,
  };
}

function codexDeclined(events: readonly JsonObject[]): EventHit | null {
  const calls: string[] = [];
  for (const raw of events) {
    const event = isObject(raw['msg']) ? raw['msg'] : raw;
    const item = isObject(event['item']) ? event['item'] : null;
    if (event['type'] !== 'item.completed' || item === null || item['status'] !== 'declined') continue;
    if (item['type'] === 'command_execution') calls.push(`command ${String(item['command'] ?? '')}`.trim());
    else if (item['type'] === 'file_change') {
      const paths = Array.isArray(item['changes']) ? item['changes'].filter(isObject).map((c) => String(c['path'] ?? '')) : [];
      calls.push(`patch ${paths.join(', ')}`.trim());
    }
  }
  if (calls.length === 0) return null;
  return {
    message: `codex declined ${countOf(calls.length, 'tool call')} (${listed(calls)}): its sandbox or approval policy refused them (check agent_args: --sandbox, -c approval_policy)`,
    resetAt: null,
  };
}

function geminiRejectedTools(event: JsonObject): EventHit | null {
  const tools = isObject(event['stats']) && isObject(event['stats']['tools']) ? event['stats']['tools'] : null;
  const decisions = tools !== null && isObject(tools['totalDecisions']) ? tools['totalDecisions'] : null;
  const rejected = typeof decisions?.['reject'] === 'number' ? decisions['reject'] : 0;
  if (rejected <= 0 || tools === null) return null;
  const byName = isObject(tools['byName']) ? tools['byName'] : {};
  const names = Object.entries(byName).flatMap(([name, stats]) => {
    const n = isObject(stats) && isObject(stats['decisions']) ? stats['decisions']['reject'] : 0;
    return typeof n === 'number' && n > 0 ? [n > 1 ? `${name} ×${n}` : name] : [];
  });
  return {
    message: `gemini rejected ${countOf(rejected, 'tool call')}${names.length > 0 ? ` (${listed(names)})` : ''}: its approval policy refused them (check agent_args: --yolo / --approval-mode)`,
    resetAt: null,
  };
}

function countOf(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function listed(calls: readonly string[]): string {
  const shown = calls.slice(0, LISTED_REFUSALS).map((c) => (c.length > REFUSAL_DETAIL_CHARS ? `${c.slice(0, REFUSAL_DETAIL_CHARS - 1)}…` : c));
  return calls.length > LISTED_REFUSALS ? `${shown.join(', ')}, …` : shown.join(', ');
}

// ---------------------------------------------------------------------------------------
// Event tests (Claude's structured output)

function rejectedRateLimitEvent(event: JsonObject): EventHit | null {
  if (event['type'] !== 'rate_limit_event' || !isObject(event['rate_limit_info'])) return null;
  const info = event['rate_limit_info'];
  // A rejected window with extra usage allowed goes on, paid: not blocked (the run says so if it fails).
  const overageTakesOver = info['overageStatus'] === 'allowed' || info['overageStatus'] === 'allowed_warning';
  // Claude emits a bare `{status:"rejected"}` (no window, no reset) for any 429, a per-minute
  // rate limit too: only an event that names a window or its reset says a window is used up.
  const namesWindow = typeof info['rateLimitType'] === 'string' || epochMs(info['resetsAt']) !== null;
  const rejected = info['status'] === 'rejected' && !overageTakesOver && namesWindow;
  const overageRejected = info['isUsingOverage'] === true && info['overageStatus'] === 'rejected';
  if (!rejected && !overageRejected) return null;
  const resetsAt = epochMs(rejected ? info['resetsAt'] : (info['overageResetsAt'] ?? info['resetsAt']));
  const window = typeof info['rateLimitType'] === 'string' ? info['rateLimitType'] : 'usage';
  const what = rejected ? `${window} limit` : 'extra usage';
  const until = resetsAt === null ? '' : `, resets at ${new Date(resetsAt).toISOString()}`;
  return { message: `rate_limit_event: ${what} rejected${until}`, resetAt: resetsAt };
}

function failedResult(event: JsonObject, ctx: ResetContext, statusMatches: (status: number) => boolean): EventHit | null {
  if (event['type'] !== 'result' || event['is_error'] !== true) return null;
  const status = Number(event['api_error_status']);
  return Number.isInteger(status) && statusMatches(status) ? resultHit(event, ctx) : null;
}

function saysNotUsageLimit(event: JsonObject): boolean {
  return typeof event['result'] === 'string' && NOT_USAGE_LIMIT.test(event['result']);
}

function resultHit(event: JsonObject, ctx: ResetContext): EventHit | null {
  if (event['type'] !== 'result') return null;
  const said = typeof event['result'] === 'string' ? event['result'].trim() : '';
  const status = event['api_error_status'];
  const fallback = `result ${String(event['terminal_reason'] ?? 'error')}${status === undefined || status === null ? '' : ` (API status ${String(status)})`}`;
  return { message: said === '' ? fallback : said, resetAt: said === '' ? null : parseResetTime(said, ctx) };
}

function epochMs(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return null;
  return value >= 1e12 ? value : value * 1000; // epoch seconds, unless it is already ms
}
