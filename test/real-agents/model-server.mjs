/**
 * A scripted model server for the real agent CLIs (claude, codex, gemini): node:http on
 * 127.0.0.1, an ephemeral port. It speaks just enough of the Anthropic Messages API, the OpenAI
 * Responses API and the Gemini generateContent API to drive one real edit, and answers the
 * errors the CLIs meet in the field (quota window, billing, overload, 500).
 *
 * The scenario is part of the base URL the CLI is given: `http://127.0.0.1:PORT/s/<scenario>`,
 * so one server serves every test of a file, each test with its own scenario. Every request is
 * logged (scenario, method, path, a digest of the body) so tests can assert the CLI really
 * talked to it.
 *
 * Scenarios:
 *   edit     turn 1: a shell tool call running `editCommand` (claude Bash, codex's shell tool,
 *            gemini run_shell_command); after the tool result: a final text.
 *   denied   the same with `deniedCommand`, an edit under `.git/` (Claude Code refuses it and
 *            lists it in permission_denials).
 *   quota    429 with the provider's quota-window body (and Claude's unified rate-limit headers)
 *            resetting at `resetAt`.
 *   ratelimit a per-minute rate limit that states its retry delay (3.5 s): not a quota window.
 *   billing  the provider's "out of credits" error.
 *   overload 529 overloaded_error (Anthropic) / 503 UNAVAILABLE (Gemini) / 503 (OpenAI).
 *   e500     500 internal error.
 *
 * Any other scenario name acts as `edit`; `server.script(scenario, …)` may give it its own edit
 * command, and the quota error for the requests whose body holds a given text (a turn out of
 * quota while others of the same scenario are not, e.g. only a pipelined draft's turn).
 */
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';

export const SCENARIOS = ['edit', 'denied', 'quota', 'ratelimit', 'billing', 'overload', 'e500'];

/**
 * @param {{ editCommand?: string, deniedCommand?: string, finalText?: string, resetAt?: number }} [options]
 *   resetAt: epoch seconds when the quota window resets (default: now + 3 h 17 min).
 */
export async function startModelServer(options = {}) {
  const editCommand = options.editCommand ?? "sed -i 's/^value = .*/value = 2/' target.txt";
  const deniedCommand = options.deniedCommand ?? "sed -i 's/^/edited /' .git/description";
  /** @type {Map<string, { command?: string, quotaWhenBodyIncludes?: string }>} */
  const scripts = new Map();
  const commandFor = (scenario) => scripts.get(scenario)?.command ?? (scenario === 'denied' ? deniedCommand : editCommand);
  /** The scenario whose errors a request gets: `quota` for a scripted text in its body. */
  const errorsOf = (scenario, raw) => {
    const when = scripts.get(scenario)?.quotaWhenBodyIncludes;
    return when !== undefined && raw.includes(when) ? 'quota' : scenario;
  };
  const finalText = options.finalText ?? 'Done: target.txt now says value = 2.';
  const resetAt = options.resetAt ?? Math.floor(Date.now() / 1000) + 3 * 3600 + 17 * 60;
  /** @type {Array<{scenario: string, method: string, path: string, api: string, digest: string, summary: string, status: number, at: number}>} */
  const log = [];
  let ids = 0;

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const match = /^\/s\/([a-z0-9_-]+)(\/.*)?$/.exec(url.pathname);
      const scenario = match ? match[1] : 'edit';
      const path = match ? (match[2] ?? '/') : url.pathname;
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = null;
      }
      const entry = {
        scenario,
        method: req.method ?? '?',
        path,
        api: apiOf(path),
        digest: createHash('sha256').update(raw).digest('hex').slice(0, 12),
        summary: summarize(path, body),
        status: 0,
        at: Date.now(),
      };
      log.push(entry);
      // @ts-ignore: lets sse() record the status it sends
      res.entry = entry;
      const send = (status, headers, text) => {
        entry.status = status;
        res.writeHead(status, headers);
        res.end(text);
      };
      try {
        route({ req, res, send, scenario, errors: errorsOf(scenario, raw), path, body, url, nextId: () => ++ids });
      } catch (err) {
        send(500, { 'content-type': 'text/plain' }, `model-server bug: ${err}`);
      }
    });
  });

  function route(ctx) {
    const { send, scenario, path, body } = ctx;
    if (ctx.req.method === 'HEAD' || ctx.req.method === 'GET') {
      // Connectivity probes (claude HEADs the base URL; codex may list models).
      if (path.endsWith('/models')) return send(200, json, JSON.stringify({ object: 'list', data: [], models: [] }));
      return send(200, { 'content-type': 'text/plain' }, ctx.req.method === 'HEAD' ? undefined : 'ok');
    }
    if (path.startsWith('/v1/messages')) return anthropic(ctx);
    if (path.startsWith('/v1/responses') || path.startsWith('/responses')) return openai(ctx);
    if (path.includes('/models/') && path.includes(':')) return gemini(ctx);
    return send(404, json, JSON.stringify({ error: { message: `model-server: no route for ${path}` } }));
  }

  // ---- Anthropic Messages ------------------------------------------------------------------
  function anthropic({ send, res, scenario, errors, path, body, nextId }) {
    if (path.includes('count_tokens')) return send(200, json, JSON.stringify({ input_tokens: 100 }));
    const err = anthropicError(errors);
    if (err) return send(err.status, { ...json, ...err.headers }, JSON.stringify(err.body));
    const isMain = Array.isArray(body?.tools) && body.tools.some((t) => t.name === 'Bash');
    const toolDone = lastUserHasToolResult(body?.messages);
    /** @type {Array<object>} */
    const content =
      isMain && !toolDone
        ? [{ type: 'tool_use', id: `toolu_${nextId()}`, name: 'Bash', input: { command: commandFor(scenario), description: 'Edit the target file' } }]
        : [{ type: 'text', text: isMain ? finalText : 'Scripted title' }];
    const stopReason = content[0].type === 'tool_use' ? 'tool_use' : 'end_turn';
    const message = { id: `msg_${nextId()}`, type: 'message', role: 'assistant', model: body?.model ?? 'claude-scripted', content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 120, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } };
    if (!body?.stream) return send(200, json, JSON.stringify(message));
    const events = [['message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } }]];
    content.forEach((block, index) => {
      if (block.type === 'text') {
        events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
        events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }]);
      } else {
        events.push(['content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }]);
        events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }]);
      }
      events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    });
    events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 30 } }]);
    events.push(['message_stop', { type: 'message_stop' }]);
    sse(res, 200, events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  }

  function anthropicError(scenario) {
    const error = (status, type, message, headers = {}) => ({ status, headers: { 'request-id': `req_${Date.now()}`, ...headers }, body: { type: 'error', error: { type, message } } });
    switch (scenario) {
      case 'quota':
        // The headers Claude Code reads into its rate_limit_event and "You've hit your session limit".
        return error(429, 'rate_limit_error', "This request would exceed your account's rate limit. Please try again later.", {
          'anthropic-ratelimit-unified-status': 'rejected',
          'anthropic-ratelimit-unified-reset': String(resetAt),
          'anthropic-ratelimit-unified-representative-claim': 'five_hour',
          'anthropic-ratelimit-unified-5h-status': 'rejected',
          'anthropic-ratelimit-unified-5h-reset': String(resetAt),
          'anthropic-ratelimit-unified-5h-utilization': '1.0',
          'anthropic-ratelimit-unified-overage-status': 'rejected',
          'anthropic-ratelimit-unified-overage-disabled-reason': 'org_level_disabled',
          'anthropic-ratelimit-unified-fallback': 'unavailable',
        });
      case 'ratelimit':
        return error(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit. Please try again in 3.5s.', { 'retry-after': '4' });
      case 'billing':
        return error(400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.');
      case 'overload':
        return error(529, 'overloaded_error', 'Overloaded');
      case 'e500':
        return error(500, 'api_error', 'Internal server error');
      default:
        return null;
    }
  }

  // ---- OpenAI Responses (codex) -------------------------------------------------------------
  function openai({ send, res, scenario, errors, body, nextId }) {
    const now = Math.floor(Date.now() / 1000);
    switch (errors) {
      case 'quota':
        return send(429, { ...json, 'x-codex-primary-used-percent': '100', 'x-codex-primary-window-minutes': '300', 'x-codex-primary-reset-at': String(resetAt), 'x-codex-primary-reset-after-seconds': String(resetAt - now) }, JSON.stringify({ error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: resetAt, resets_in_seconds: resetAt - now }, status_code: 429 }));
      case 'ratelimit':
        return send(429, json, JSON.stringify({ error: { message: 'Rate limit reached for gpt-5.5 on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 3.5s.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } }));
      case 'billing':
        return send(429, json, JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }));
      case 'overload':
        return send(503, json, JSON.stringify({ error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null } }));
      case 'e500':
        return send(500, json, JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } }));
    }
    const input = Array.isArray(body?.input) ? body.input : [];
    const toolDone = input.some((i) => i && typeof i.type === 'string' && i.type.endsWith('_call_output'));
    const responseId = `resp_${nextId()}`;
    const item = toolDone
      ? { type: 'message', id: `msg_${nextId()}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: finalText, annotations: [] }] }
      : codexShellCall(body?.tools ?? [], `call_${nextId()}`, commandFor(scenario));
    const usage = { input_tokens: 120, input_tokens_details: { cached_tokens: 0 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 150 };
    const events = [
      { type: 'response.created', response: { id: responseId, object: 'response', status: 'in_progress', output: [] } },
      { type: 'response.output_item.added', output_index: 0, item },
      { type: 'response.output_item.done', output_index: 0, item },
      { type: 'response.completed', response: { id: responseId, object: 'response', status: 'completed', output: [item], usage } },
    ];
    sse(res, 200, events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
  }

  /** A call of whichever shell tool this codex build offers. */
  function codexShellCall(tools, callId, command) {
    const names = tools.map((t) => t.name ?? t.function?.name).filter(Boolean);
    const base = { type: 'function_call', id: `fc_${callId}`, call_id: callId, status: 'completed' };
    if (names.includes('shell')) return { ...base, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', command] }) };
    if (names.includes('shell_command')) return { ...base, name: 'shell_command', arguments: JSON.stringify({ command }) };
    if (names.includes('exec_command')) return { ...base, name: 'exec_command', arguments: JSON.stringify({ cmd: command }) };
    throw new Error(`codex offered no shell tool (tools: ${names.join(', ')})`);
  }

  // ---- Gemini -------------------------------------------------------------------------------
  function gemini({ send, res, scenario, errors, path, body }) {
    const method = path.slice(path.lastIndexOf(':') + 1);
    if (method === 'countTokens') return send(200, json, JSON.stringify({ totalTokens: 100 }));
    const err = geminiError(errors);
    if (err) return send(err.code, json, JSON.stringify({ error: err }));
    const contents = Array.isArray(body?.contents) ? body.contents : [];
    const last = contents[contents.length - 1];
    const toolDone = Array.isArray(last?.parts) && last.parts.some((p) => p.functionResponse);
    const offersShell = Array.isArray(body?.tools) && body.tools.some((t) => (t.functionDeclarations ?? []).some((f) => f.name === 'run_shell_command'));
    let parts;
    if (!offersShell) parts = [{ text: sideAnswer(body) }];
    else if (!toolDone) parts = [{ functionCall: { name: 'run_shell_command', args: { command: commandFor(scenario), description: 'Edit the target file' } } }];
    else parts = [{ text: finalText }];
    const chunk = { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 30, totalTokenCount: 150 }, modelVersion: path.split('/models/')[1]?.split(':')[0] ?? 'gemini' };
    if (method === 'streamGenerateContent') return sse(res, 200, [`data: ${JSON.stringify(chunk)}\r\n\r\n`]);
    return send(200, json, JSON.stringify(chunk));
  }

  /** Gemini's side calls (the model router, next-speaker checks) want JSON back. */
  function sideAnswer(body) {
    const wantsJson = body?.generationConfig?.responseMimeType === 'application/json';
    if (!wantsJson) return 'ok';
    // Keys of the router's classifiers (model_choice; complexity_*) and of next-speaker checks.
  return JSON.stringify({ reasoning: 'scripted', model_choice: 'flash', complexity_reasoning: 'scripted', complexity_score: 10, next_speaker: 'user' });
  }

  function geminiError(scenario) {
    const retryIn = Math.max(1, resetAt - Math.floor(Date.now() / 1000));
    switch (scenario) {
      case 'quota':
        return { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'You exceeded your current quota, please check your plan and billing details.', details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model: 'gemini-2.5-pro' }, quotaValue: '100' }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryIn}s` },
        ] };
      case 'ratelimit':
        return { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota). Please retry in 3.5s.', details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: '10' }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3.5s' },
        ] };
      case 'billing':
        return { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.' };
      case 'overload':
        return { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' };
      case 'e500':
        return { code: 500, status: 'INTERNAL', message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' };
      default:
        return null;
    }
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    resetAt,
    /** The base URL a CLI gets for one scenario. */
    baseUrl: (scenario) => `http://127.0.0.1:${port}/s/${scenario}`,
    log,
    /**
     * Scripts a scenario (any name but the built-in ones): `command` is what its shell tool call
     * runs (instead of `editCommand`); `quotaWhenBodyIncludes` answers the quota error to every
     * request whose raw body contains that text.
     */
    script: (scenario, script) => {
      if (SCENARIOS.includes(scenario)) throw new Error(`model-server: ${scenario} is a built-in scenario; script another name`);
      scripts.set(scenario, script);
    },
    /** Requests seen for one scenario (all scenarios when omitted). */
    requests: (scenario) => (scenario ? log.filter((e) => e.scenario === scenario) : log.slice()),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve(undefined)); }),
  };
}

const json = { 'content-type': 'application/json' };

function sse(res, status, frames) {
  res.entry.status = status;
  res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const f of frames) res.write(f);
  res.end();
}

function apiOf(path) {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.includes('/responses')) return 'openai';
  if (path.includes('/models/')) return 'gemini';
  return 'other';
}

function lastUserHasToolResult(messages) {
  if (!Array.isArray(messages) || messages.length === 0) return false;
  const last = messages[messages.length - 1];
  return last?.role === 'user' && Array.isArray(last.content) && last.content.some((b) => b?.type === 'tool_result');
}

function summarize(path, body) {
  if (!body || typeof body !== 'object') return '';
  const parts = [];
  if (body.model) parts.push(`model=${body.model}`);
  if ('stream' in body) parts.push(`stream=${body.stream}`);
  if (Array.isArray(body.messages)) parts.push(`messages=${body.messages.length}`);
  if (Array.isArray(body.input)) parts.push(`input=${body.input.length}`);
  if (Array.isArray(body.contents)) parts.push(`contents=${body.contents.length}`);
  if (Array.isArray(body.tools)) parts.push(`tools=${body.tools.length}`);
  return parts.join(' ');
}

// `node model-server.mjs` runs it standalone for exploring a CLI by hand.
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startModelServer();
  console.log(`model server on http://127.0.0.1:${s.port}/s/<scenario>`);
  setInterval(() => {
    while (s.log.length) {
      const e = s.log.shift();
      console.log(`${e.scenario} ${e.method} ${e.path} -> ${e.status} ${e.summary} #${e.digest}`);
    }
  }, 200);
}
