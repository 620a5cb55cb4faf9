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
  const before = new Set(await session.worktree.untrackedPaths());
  const outcome = await deps.runner.run({
    command: config.setupCmd,
    cwd: store.current.worktree,
    env: childEnv(session, deps.env, { number: 0, runDir: paths.dir, baseline: true, best: null }),
    stdoutFile: paths.setupLog,
    timeoutMs: Math.max(config.agentTimeoutMs, config.evalTimeoutMs),
    signal,
    escapeTag: worktreeTag(store.current.worktree),
    onEscapee: (message) => deps.report({ kind: 'warning', message }),
  });
  if (outcome.kind === 'aborted') return 'aborted';
  if (outcome.kind === 'exit' && outcome.code === 0) {
    // What setup made (node_modules/…), not what was there (with `agent: none`, the external agent's files).
    const setupOutput = (await session.worktree.untrackedPaths()).filter((p) => !before.has(p));
    session.worktree.keepSetupOutput(setupOutput);
    await store.update({ setupDone: true, setupOutput });
    deps.report({ kind: 'setup', status: 'ok', command: config.setupCmd, log: paths.setupLog });
    return 'ok';
  }
  const detail = outcome.kind === 'exit' ? `exit code ${outcome.code}` : outcome.kind;
  deps.report({ kind: 'setup', status: 'failed', command: config.setupCmd, log: paths.setupLog, detail });
  throw new AutoresearchError(
    'BAD_INPUT',
    `${config.file}: setup_cmd \`${config.setupCmd}\` failed (${detail}) in ${store.current.worktree}.\n` +
      `Last output (${paths.setupLog}):\n${readTail(paths.setupLog, 2048)}`,
  );
}
