/**
 * The real `autoresearch` binary (dist/, built by the global setup), run as a child process.
 * `startCli` returns a handle whose output can be awaited: tests wait on output, never on sleeps.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa('node', [CLI, ...args], {
    env: opts.env ?? {},
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface RunningCli {
  process: ResultPromise;
  pid: number;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  result(): Promise<CliResult>;
}

export function startCli(args: string[], opts: { env?: Record<string, string> } = {}): RunningCli {
  const child = execa('node', [CLI, ...args], { env: opts.env ?? {}, reject: false, stdin: 'ignore', all: true, buffer: true });
  let all = '';
  child.all?.on('data', (chunk: Buffer) => (all += chunk.toString()));
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => all,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(all)) return resolve();
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${all}`));
        }, timeoutMs);
        const onData = () => {
          if (pattern.test(all)) {
            cleanup();
            resolve();
          }
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`process exited before ${pattern} appeared; output:\n${all}`));
        };
        function cleanup() {
          clearTimeout(timer);
          child.all?.off('data', onData);
          child.off('exit', onExit);
        }
        child.all?.on('data', onData);
        child.once('exit', onExit);
      }),
    result: async () => {
      const r = await child;
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
  };
}
