/**
 * `setup_cmd` runs once in a fresh worktree (e.g. `npm ci`, `uv sync`). A failure stops the
 * run with its log: it is the environment, not a candidate, that is broken.
 */
import { AutoresearchError } from '../core/errors.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { childEnv, worktreeTag } from './child-env.js';
import { readTail } from '../fs/read-tail.js';

export async function runSetupIfNeeded(session: Session, deps: LoopDeps, signal: AbortSignal): Promise<'ok' | 'aborted'> {
  const { config, store, paths } = session;
  if (config.setupCmd === null || store.current.setupDone) return 'ok';
  deps.report({ kind: 'setup', status: 'start', command: config.setupCmd, log: paths.setupLog });
  const outcome = await runSetupCommand(session, deps, { log: paths.setupLog, iteration: { number: 0, runDir: paths.dir, baseline: true, best: null }, signal });
  if (outcome.kind === 'aborted') return 'aborted';
  if (outcome.kind === 'ok') {
    session.worktree.keepSetupOutput(outcome.output);
    await store.update({ setupDone: true, setupOutput: outcome.output });
    deps.report({ kind: 'setup', status: 'ok', command: config.setupCmd, log: paths.setupLog });
    return 'ok';
  }
  deps.report({ kind: 'setup', status: 'failed', command: config.setupCmd, log: paths.setupLog, detail: outcome.detail });
  throw new AutoresearchError(
    'BAD_INPUT',
    `${config.file}: setup_cmd \`${config.setupCmd}\` failed (${outcome.detail}) in ${store.current.worktree}.\n` +
      `Last output (${paths.setupLog}):\n${readTail(paths.setupLog, 2048)}`,
  );
}

export type SetupOutcome = { kind: 'ok'; output: string[] } | { kind: 'aborted' } | { kind: 'failed'; detail: string };

/**
 * setup_cmd in `session`'s worktree (the experiment's, or pipeline's draft worktree through
 * its view of the session, loop/draft.ts), output to `log`. `output`: the untracked paths it
 * made (not what was there: with `agent: none`, the external agent's files).
 */
export async function runSetupCommand(
  session: Session,
  deps: LoopDeps,
  opts: { log: string; iteration: Parameters<typeof childEnv>[2]; signal: AbortSignal },
): Promise<SetupOutcome> {
  const { config, store } = session;
  const command = config.setupCmd;
  if (command === null) return { kind: 'ok', output: [] };
  const cwd = store.current.worktree;
  const before = new Set(await session.worktree.untrackedPaths());
  const outcome = await deps.runner.run({
    command,
    cwd,
    env: childEnv(session, deps.env, opts.iteration),
    stdoutFile: opts.log,
    timeoutMs: Math.max(config.agentTimeoutMs, config.evalTimeoutMs),
    signal: opts.signal,
    escapeTag: worktreeTag(cwd),
    onEscapee: (message) => deps.report({ kind: 'warning', message }),
  });
  if (outcome.kind === 'aborted') return { kind: 'aborted' };
  if (outcome.kind === 'exit' && outcome.code === 0) return { kind: 'ok', output: (await session.worktree.untrackedPaths()).filter((p) => !before.has(p)) };
  return { kind: 'failed', detail: outcome.kind === 'exit' ? `exit code ${outcome.code}` : outcome.kind };
}
