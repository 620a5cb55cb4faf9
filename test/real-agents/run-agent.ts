/**
 * Runs one real agent CLI turn exactly as autoresearch builds it (agentCommandLine: the same
 * flags, the prompt on stdin) against the scripted model server, and records what came back.
 * With REAL_AGENTS_RECORD=1 the output is also saved as fixtures/<cli>/<scenario>.{stdout,stderr,json}
 * (temp paths and the port replaced by placeholders) for the classifier's unit tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { agentCommandLine } from '../../src/agents/agent-command.js';
import { PINNED, REAL_AGENTS_DIR, setUpCli, type CliName, type CliSetupOptions } from './cli-env.js';
import type { ModelServer } from './model-server.mjs';

export const PROMPT = 'Change the line `value = 1` in target.txt to `value = 2`, then stop.';

export interface AgentRun {
  cli: CliName;
  scenario: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Requests the server got during this run. */
  requests: ModelServer['log'];
  settings: string[];
}

export async function runAgent(
  cli: CliName,
  opts: { server: ModelServer; scenario: string; cwd: string; home: string; label?: string } & Omit<CliSetupOptions, 'baseUrl' | 'home'>,
): Promise<AgentRun> {
  const setup = setUpCli(cli, { ...opts, baseUrl: opts.server.baseUrl(opts.scenario) });
  const commandLine = agentCommandLine({ kind: 'builtin', name: cli, args: [] });
  if (!commandLine) throw new Error('builtin agent without a command line');
  const before = opts.server.log.length;
  const started = Date.now();
  const r = await execa('/bin/sh', ['-c', commandLine], {
    cwd: opts.cwd,
    env: setup.env,
    extendEnv: false,
    input: PROMPT,
    reject: false,
    timeout: 150_000,
  });
  const run: AgentRun = {
    cli,
    scenario: opts.scenario,
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    durationMs: Date.now() - started,
    requests: opts.server.log.slice(before),
    settings: setup.notes,
  };
  if (process.env.REAL_AGENTS_RECORD === '1') record(run, opts.label ?? opts.scenario, [opts.cwd, opts.home], opts.server.port);
  console.log(`[real-agents] ${cli} ${opts.label ?? opts.scenario}: exit ${run.exitCode} in ${run.durationMs} ms, ${run.requests.length} requests`);
  return run;
}

function record(run: AgentRun, label: string, tempDirs: string[], port: number): void {
  const dir = path.join(REAL_AGENTS_DIR, 'fixtures', run.cli);
  fs.mkdirSync(dir, { recursive: true });
  const scrub = (text: string) => {
    let out = text.split(REAL_AGENTS_DIR).join('<real-agents>');
    for (const d of tempDirs) out = out.split(d).join('<tmp>');
    return out.split(`127.0.0.1:${port}`).join('127.0.0.1:<port>');
  };
  fs.writeFileSync(path.join(dir, `${label}.stdout`), scrub(run.stdout));
  fs.writeFileSync(path.join(dir, `${label}.stderr`), scrub(run.stderr));
  const meta = {
    cli: run.cli,
    version: PINNED[run.cli],
    scenario: run.scenario,
    exitCode: run.exitCode,
    durationMs: run.durationMs,
    settings: run.settings,
    requests: run.requests.map((q) => `${q.method} ${q.path} -> ${q.status}`),
  };
  fs.writeFileSync(path.join(dir, `${label}.json`), JSON.stringify(meta, null, 2) + '\n');
}

/** The last `type: result` line of claude's stream-json output. */
export function claudeResult(stdout: string): Record<string, unknown> {
  const lines = jsonLines(stdout).filter((l) => l.type === 'result');
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`no result line in claude output:\n${stdout}`);
  return last;
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object') out.push(v as Record<string, unknown>);
    } catch {
      // not a JSON line (claude may inject events mid-line; tolerated)
    }
  }
  return out;
}
