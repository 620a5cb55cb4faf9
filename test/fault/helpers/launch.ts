/**
 * The real CLI as its own process group (detached), so a test can SIGKILL either the CLI
 * alone (its git children live on as orphans) or the CLI with its git children, as a
 * service manager would. Output (stdout + stderr) is collected and can be awaited.
 */
import { spawn } from 'node:child_process';
import { CLI } from '../../helpers/cli.js';

export interface LaunchedCli {
  pid: number;
  output(): string;
  /** Resolves 'matched' when `pattern` appears, 'exited' if the CLI ends first, 'timeout' after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<'matched' | 'exited' | 'timeout'>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

const launched = new Set<number>();

export function launchCli(args: string[], env: Record<string, string>): LaunchedCli {
  const child = spawn('node', [CLI, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start node ${CLI}`);
  const pid = child.pid;
  launched.add(pid);
  let all = '';
  let done = false;
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    all += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      launched.delete(pid);
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  return {
    pid,
    output: () => all,
    exited,
    hasExited: () => done,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve) => {
        const check = () => {
          if (pattern.test(all)) finish('matched');
          else if (done) finish('exited');
        };
        const timer = setTimeout(() => finish('timeout'), timeoutMs);
        function finish(how: 'matched' | 'exited' | 'timeout') {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(how);
        }
        listeners.add(check);
        check();
      }),
  };
}

/** Kills every CLI group still running (cleanup after a failed test). */
export function killLaunched(): void {
  for (const pid of launched) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  launched.clear();
}
