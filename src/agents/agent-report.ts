/**
 * What an agent CLI says about its own turn: cost, tokens, session, model, whether it
 * failed, and its final text. Read from the machine output of each built-in CLI:
 *
 *   claude  --output-format json (one result object, or an array of events with --verbose)
 *           and stream-json (NDJSON; the last line is the same result object):
 *           `{"type":"system","subtype":"init","session_id","model"}` …
 *           `{"type":"result","is_error","result","session_id","total_cost_usd" (older: "cost_usd"),
 *             "usage":{input_tokens,cache_creation_input_tokens,cache_read_input_tokens,output_tokens},
 *             "modelUsage":{"<model>":{inputTokens,outputTokens,cacheReadInputTokens,cacheCreationInputTokens,costUSD}}}`
 *   codex   exec --json (JSONL, codex-rs/exec/src/exec_events.rs): `thread.started{thread_id}`,
 *           `turn.completed{usage:{input_tokens,cached_input_tokens,output_tokens}}`, `turn.failed{error}`,
 *           `error{message}`, `item.completed{item:{type:"agent_message",text}}`; and the older
 *           `{"id","msg":{"type":"session_configured"|"token_count"|"task_complete"|"error",…}}` stream.
 *           No cost.
 *   gemini  --output-format json (packages/core/src/output/types.ts): `{session_id?, response?,
 *           stats?:{models:{"<model>":{tokens:{prompt,candidates,cached,thoughts,total,…}}}}, error?}`;
 *           stream-json: `init{session_id,model}`, `message{role,content}`, `result{status,error?,
 *           stats:{input_tokens,output_tokens,…}}`. No cost.
 *
 * Token counts, comparable across CLIs: inputTokens is every prompt token the model read,
 * cached or not (Claude: input + cache creation + cache read; Codex input_tokens and Gemini
 * prompt already include their cached part); outputTokens is what each CLI calls output
 * (Claude output_tokens, Codex output_tokens, Gemini candidates, as Gemini's own stream
 * stats count it). Claude sums modelUsage over all models when it has token counts (the
 * cost covers them too), else takes `usage` (the main model).
 *
 * `command` agents: whichever CLI's shape is found (a wrapper script may run any of them).
 * Unknown or garbled output → all nulls. Never throws.
 */
import { isObject, splitOutput, type JsonObject } from './output-json.js';
import type { AgentKind } from './signatures.js';

export interface AgentReport {
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  sessionId: string | null;
  model: string | null;
  isError: boolean | null;
  resultText: string | null;
}

export const EMPTY_REPORT: AgentReport = Object.freeze({
  costUsd: null,
  inputTokens: null,
  outputTokens: null,
  sessionId: null,
  model: null,
  isError: null,
  resultText: null,
});

type ReportReader = (events: readonly JsonObject[]) => AgentReport;

export function parseAgentReport(agent: AgentKind, stdout: string): AgentReport {
  const events = splitOutput(stdout).objects;
  if (agent !== 'command') return READERS[agent](events);
  for (const read of Object.values(READERS)) {
    const report = read(events);
    if (Object.values(report).some((v) => v !== null)) return report;
  }
  return { ...EMPTY_REPORT };
}

const READERS: Record<Exclude<AgentKind, 'command'>, ReportReader> = {
  claude: readClaude,
  codex: readCodex,
  gemini: readGemini,
};

// ---------------------------------------------------------------------------------------

function readClaude(events: readonly JsonObject[]): AgentReport {
  let init: JsonObject | undefined;
  let result: JsonObject | undefined;
  let assistantModel: string | null = null;
  for (const event of events) {
    if (event['type'] === 'system' && event['subtype'] === 'init') init ??= event;
    else if (event['type'] === 'result') result = event;
    else if (event['type'] === 'assistant') {
      const model = str(obj(event['message'])?.['model']);
      if (model !== null && model !== '<synthetic>') assistantModel = model; // <synthetic>: a CLI notice, not a model
    }
  }
  if (init === undefined && result === undefined && assistantModel === null) return { ...EMPTY_REPORT };
  const tokens = claudeTokens(result);
  return {
    costUsd: num(result?.['total_cost_usd']) ?? num(result?.['cost_usd']) ?? num(result?.['total_cost']),
    inputTokens: tokens.input,
    outputTokens: tokens.output,
    sessionId: str(result?.['session_id']) ?? str(init?.['session_id']),
    model: str(init?.['model']) ?? topModel(obj(result?.['modelUsage']), costOrOutput) ?? assistantModel,
    isError: bool(result?.['is_error']),
    resultText: str(result?.['result']),
  };
}

function claudeTokens(result: JsonObject | undefined): { input: number | null; output: number | null } {
  const perModel = Object.values(obj(result?.['modelUsage']) ?? {}).filter(isObject);
  if (perModel.some((m) => num(m['inputTokens']) !== null || num(m['outputTokens']) !== null)) {
    return {
      input: sum(perModel.map((m) => sum([m['inputTokens'], m['cacheCreationInputTokens'], m['cacheReadInputTokens']]))),
      output: sum(perModel.map((m) => m['outputTokens'])),
    };
  }
  const usage = obj(result?.['usage']);
  if (usage === null || num(usage['input_tokens']) === null) return { input: null, output: num(usage?.['output_tokens']) };
  return {
    input: sum([usage['input_tokens'], usage['cache_creation_input_tokens'], usage['cache_read_input_tokens']]),
    output: num(usage['output_tokens']),
  };
}

function costOrOutput(usage: JsonObject): number {
  return num(usage['costUSD']) ?? num(usage['outputTokens']) ?? 0;
}

// ---------------------------------------------------------------------------------------

function readCodex(events: readonly JsonObject[]): AgentReport {
  let sessionId: string | null = null;
  let model: string | null = null;
  let input: number | null = null;
  let output: number | null = null;
  let cumulative: { input: number | null; output: number | null } | null = null; // older token_count
  let completed = false;
  let failed = false;
  let errored = false;
  let resultText: string | null = null;
  for (const raw of events) {
    const event = obj(raw['msg']) ?? raw; // the older stream wraps each event in `msg`
    switch (event['type']) {
      case 'thread.started':
        sessionId = str(event['thread_id']) ?? sessionId;
        break;
      case 'session_configured':
        sessionId = str(event['session_id']) ?? sessionId;
        model = str(event['model']) ?? model;
        break;
      case 'turn.completed': {
        const usage = obj(event['usage']);
        input = add(input, num(usage?.['input_tokens']));
        output = add(output, num(usage?.['output_tokens']));
        completed = true;
        break;
      }
      case 'token_count': {
        const total = obj(obj(event['info'])?.['total_token_usage']);
        if (total !== null) cumulative = { input: num(total['input_tokens']), output: num(total['output_tokens']) };
        break;
      }
      case 'turn.failed':
        failed = true;
        break;
      case 'error':
        errored = true; // fatal unless a turn completes after it (stream retries also say `error`)
        break;
      case 'item.completed': {
        const item = obj(event['item']);
        if (item?.['type'] === 'agent_message') resultText = str(item['text']) ?? resultText;
        break;
      }
      case 'agent_message':
        resultText = str(event['message']) ?? resultText;
        break;
      case 'task_complete':
        resultText = str(event['last_agent_message']) ?? resultText;
        completed = true;
        break;
    }
  }
  return {
    costUsd: null,
    inputTokens: input ?? cumulative?.input ?? null,
    outputTokens: output ?? cumulative?.output ?? null,
    sessionId,
    model,
    isError: failed ? true : completed ? false : errored ? true : null,
    resultText,
  };
}

// ---------------------------------------------------------------------------------------

function readGemini(events: readonly JsonObject[]): AgentReport {
  const report: AgentReport = { ...EMPTY_REPORT };
  let streamed = '';
  for (const event of events) {
    const models = obj(obj(event['stats'])?.['models']);
    if (event['type'] === undefined && (models !== null || 'response' in event || 'error' in event)) {
      // --output-format json: the one document (on stderr when it only carries an error)
      const perModel = Object.values(models ?? {}).filter(isObject).map((m) => obj(m['tokens']) ?? {});
      report.inputTokens = perModel.length > 0 ? sum(perModel.map((t) => t['prompt'])) : null;
      report.outputTokens = perModel.length > 0 ? sum(perModel.map((t) => t['candidates'])) : null;
      report.model = topModel(models, (m) => num(obj(m['tokens'])?.['total']) ?? 0);
      report.sessionId = str(event['session_id']) ?? report.sessionId;
      report.resultText = str(event['response']);
      report.isError = event['error'] !== undefined && event['error'] !== null;
      continue;
    }
    switch (event['type']) {
      case 'init':
        report.sessionId = str(event['session_id']) ?? report.sessionId;
        report.model = str(event['model']) ?? report.model;
        break;
      case 'message':
        if (event['role'] === 'assistant') streamed += str(event['content']) ?? '';
        break;
      case 'result': {
        const stats = obj(event['stats']);
        report.inputTokens = num(stats?.['input_tokens']);
        report.outputTokens = num(stats?.['output_tokens']);
        report.isError = event['status'] === 'error' || isObject(event['error']);
        break;
      }
      case 'error':
        if (event['severity'] !== 'warning') report.isError = true;
        break;
    }
  }
  if (streamed !== '') report.resultText = streamed;
  return report;
}

// ---------------------------------------------------------------------------------------
// Field readers: wrong types read as absent.

function obj(value: unknown): JsonObject | null {
  return isObject(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** The sum of the numbers among `values`, or null when there are none. */
function sum(values: readonly unknown[]): number | null {
  const numbers = values.map(num).filter((n): n is number => n !== null);
  return numbers.length === 0 ? null : numbers.reduce((a, b) => a + b, 0);
}

function add(total: number | null, value: number | null): number | null {
  return value === null ? total : (total ?? 0) + value;
}

/** The key of the model that did most of the work, by `weight`. */
function topModel(models: JsonObject | null, weight: (usage: JsonObject) => number): string | null {
  let best: string | null = null;
  let bestWeight = -Infinity;
  for (const [name, usage] of Object.entries(models ?? {})) {
    const w = isObject(usage) ? weight(usage) : 0;
    if (w > bestWeight) [best, bestWeight] = [name, w];
  }
  return best;
}
