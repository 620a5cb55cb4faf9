/**
 * An experiment driven by a real agent CLI against the scripted model server: a temp repo, the
 * CLI set up the way its users do (cli-env.ts), the experiment's config, and its baseline
 * already measured (`run --single`), so the next run starts with the agent's turn. Shared by the
 * real-CLI loop tests (loop.test.ts, pipeline.test.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { setUpCli, type CliName } from './cli-env.js';
import type { ModelServer } from './model-server.mjs';

export interface RealExperiment {
  root: string;
  id: string;
  expDir: string;
  env: Record<string, string>;
  /** The env variable holding the CLI's fake key (what agent_pass_env must name), if any. */
  keyVariable: string | null;
  rows(): Promise<Array<Record<string, string>>>;
  status(): Promise<Record<string, unknown>>;
  /** state.json as written by autoresearch. */
  state(): Promise<Record<string, unknown>>;
  /** `autoresearch run <id> <args>` (default `--single`); asserts the CLI reached the server unless told not to. */
  run(expectRequests?: boolean, args?: string[]): Promise<CliResult>;
}

export interface RealExperimentOptions {
  auth?: 'subscription' | 'api-key';
  /** Name the key in agent_pass_env (default true). */
  passEnv?: boolean;
  /** Cap the CLI's own retries (default true). */
  bounded?: boolean;
  /** Config keys over the defaults (target.txt scored by `value = 2`). */
  config?: Record<string, string>;
  /** Files of the repo besides target.txt and .gitignore. */
  files?: Record<string, string>;
}

export async function realExperiment(server: ModelServer, cli: CliName, scenario: string, opts: RealExperimentOptions = {}): Promise<RealExperiment> {
  const root = await makeRepo({ 'target.txt': 'value = 1\n', '.gitignore': 'node_modules/\n', ...opts.files });
  const home = await makeTempDir('ar-home-');
  // trustWorkspace false: autoresearch itself must let gemini run in its worktree.
  const setup = setUpCli(cli, { baseUrl: server.baseUrl(scenario), home, trustWorkspace: false, auth: opts.auth ?? 'subscription', bounded: opts.bounded ?? true });
  const id = `real/${cli}-${scenario}`;
  const expDir = path.join(root, '.autoresearch', ...id.split('/'));
  const config: Record<string, string> = {
    target: 'target.txt',
    evaluate_cmd: `echo "score: $(grep -c 'value = 2' target.txt)"`,
    metric: 'score',
    metric_direction: 'higher',
    time_budget: '60s',
    agent: cli,
    // API-key users must let their key through (autoresearch strips billing variables).
    ...(setup.keyVariable && opts.passEnv !== false ? { agent_pass_env: setup.keyVariable } : {}),
    transient_retries: '1',
    transient_backoff: '1s',
    backoff_initial: '1h',
    ...opts.config,
  };
  await writeFiles(expDir, { 'config.cfg': Object.entries(config).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n' });
  const env = {
    ...setup.env,
    GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL ?? '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    AUTORESEARCH_HOME: path.join(home, 'autoresearch-home'),
  };
  // The first `run --single` only measures the baseline (no agent): do it now.
  const baseline = await runCli(['--path', root, 'run', id, '--single'], { env, timeoutMs: 60_000 });
  if (baseline.exitCode !== 0) throw new Error(`baseline run failed (exit ${baseline.exitCode}):\n${baseline.stderr}`);
  return {
    keyVariable: setup.keyVariable,
    root,
    id,
    expDir,
    env,
    async rows() {
      const text = await fs.readFile(path.join(expDir, 'results.tsv'), 'utf8').catch(() => '');
      const [header, ...lines] = text.trimEnd().split('\n');
      const cols = (header ?? '').split('\t');
      return lines.filter(Boolean).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i] ?? `col${i}`, v])));
    },
    async status() {
      const r = await runCli(['--path', root, 'status', id, '--json'], { env });
      expect(r.exitCode, r.stderr).toBe(0);
      const parsed: unknown = JSON.parse(r.stdout);
      const list = (Array.isArray(parsed) ? parsed : ((parsed as { experiments?: unknown[] }).experiments ?? [parsed])) as Array<Record<string, unknown>>;
      const mine = list.find((e) => e.id === id);
      if (!mine) throw new Error(`status --json has no ${id}:\n${r.stdout}`);
      return mine;
    },
    async state() {
      return JSON.parse(await fs.readFile(path.join(expDir, 'state.json'), 'utf8')) as Record<string, unknown>;
    },
    async run(expectRequests = true, args = ['--single']) {
      const before = server.log.length;
      const r = await runCli(['--path', root, 'run', id, ...args], { env, timeoutMs: 150_000 });
      console.log(`[real-agents] autoresearch run ${args.join(' ')}, ${cli} ${scenario}: exit ${r.exitCode}\n${r.stderr.trim()}`);
      // The real CLI ran and reached the scripted server.
      const posts = server.log.slice(before).filter((q) => q.method === 'POST' && q.scenario === scenario);
      if (expectRequests) expect(posts.length, `${cli} never reached the model server; autoresearch said:\n${r.stdout}\n${r.stderr}`).toBeGreaterThan(0);
      return r;
    },
  };
}

/** The rows after the baseline's. */
export const iterationRows = async (e: RealExperiment): Promise<Array<Record<string, string>>> => (await e.rows()).filter((r) => r.reason !== 'baseline');
