/**
 * git started by a long-lived /bin/sh (src/git/git-shell.ts), against real git and a real
 * shell: what comes back must be exactly what git printed, and the shell's life (idle end,
 * death from outside, our own death) must never lose or invent an answer.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GitClient, GitCommandError } from '../../src/git/git-client.js';
import { GitShell, GitShellUnavailable } from '../../src/git/git-shell.js';
import { readProcStat } from '../../src/process/process-identity.js';
import { git, makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', HOME: process.env.HOME ?? '/tmp' };
const shells: GitShell[] = [];
function shellIn(dir: string, opts: { idleMs?: number; config?: string[]; env?: Record<string, string> } = {}): GitShell {
  const shell = new GitShell(dir, { ...ENV, ...opts.env }, opts.config ?? [], opts.idleMs);
  shells.push(shell);
  return shell;
}
afterEach(() => {
  for (const shell of shells.splice(0)) shell.close();
});

/** Polls `check` (state, not time) until it holds; fails after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Dead: gone from /proc, or a zombie (PID 1 here never reaps). */
const dead = (pid: number) => {
  const state = readProcStat(pid)?.state;
  return state === undefined || state === 'Z' || state === 'X';
};

/**
 * `git block`, an alias that waits for the test: `started()` resolves once it runs, `release()`
 * lets it print "released" and end. Bounded (60 s), so a failed test never leaves it behind.
 */
async function blockingAlias(): Promise<{ alias: string; started: () => Promise<void>; release: () => Promise<void> }> {
  const dir = await makeTempDir('ar-gitshell-');
  const fifo = path.join(dir, 'release');
  const startedFile = path.join(dir, 'started');
  await execa('mkfifo', [fifo]);
  return {
    alias: `alias.block=!touch '${startedFile}'; timeout 60 sh -c 'read x < "$0"' '${fifo}'; echo released`,
    started: () => until('git block to start', async () => fs.stat(startedFile).then(() => true, () => false)),
    release: () => fs.writeFile(fifo, 'go\n'),
  };
}

describe('GitShell: what git printed, exactly', () => {
  it('returns stdout byte for byte: NUL bytes, the marker byte, a forged marker line, no final newline, megabytes', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const shell = shellIn(repo);
    // A file name an agent could choose to look like the end of a command's output.
    const forged = `x\x1e0123456789abcdef01234567 0\n`;
    await writeFiles(repo, { [forged]: 'f\n', 'b b.txt': 'b\n' });
    const direct = await execa('git', ['status', '--porcelain=v2', '-z', '--untracked-files=all'], { cwd: repo, encoding: 'buffer', env: ENV, extendEnv: false });
    const viaShell = await shell.run(['status', '--porcelain=v2', '-z', '--untracked-files=all']);
    expect(viaShell.exitCode).toBe(0);
    expect(Buffer.compare(viaShell.stdout, Buffer.from(direct.stdout))).toBe(0);
    expect(viaShell.stdout.includes(0)).toBe(true);

    // 3 MB with no newline at the end, through `cat-file`.
    const big = Buffer.alloc(3 * 1024 * 1024, 'ab\x1e\n\0');
    const bigFile = path.join(repo, 'big.bin');
    await fs.writeFile(bigFile, Buffer.concat([big, Buffer.from('tail without newline')]));
    const blob = (await git(repo, 'hash-object', '-w', 'big.bin')).trim();
    const content = await shell.run(['cat-file', 'blob', blob]);
    expect(Buffer.compare(content.stdout, await fs.readFile(bigFile))).toBe(0);
    expect(content.stderr.length).toBe(0);
  });

  it('keeps stderr apart and returns the exit code; GitClient turns it into GIT_FAILED or an accepted answer', async () => {
    const repo = await makeRepo();
    const shell = shellIn(repo);
    const missing = await shell.run(['rev-parse', '--verify', 'no-such-ref']);
    expect(missing.exitCode).toBe(128);
    expect(missing.stdout.length).toBe(0);
    expect(missing.stderr.toString()).toMatch(/fatal: Needed a single revision/);

    const client = new GitClient(repo, {}, { hot: true });
    try {
      expect(await client.run(['rev-parse', '--verify', '--quiet', 'no-such-ref'], [1])).toEqual({ stdout: '', exitCode: 1, stderr: '' });
      const error = await client.run(['rev-parse', '--verify', 'no-such-ref']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitCommandError);
      expect((error as GitCommandError).gitExitCode).toBe(128);
      expect((error as GitCommandError).message).toMatch(/git rev-parse --verify no-such-ref failed in .* \(exit code 128\): fatal: Needed a single revision/);
    } finally {
      client.close();
    }
  });

  it('passes arguments as words: quotes, newlines, $(…), backticks and globs reach git unexpanded', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const shell = shellIn(repo, { env: { GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'C', GIT_COMMITTER_EMAIL: 'c@x' } });
    const message = `it's "$(touch pwned)" \`touch pwned2\` $HOME *\n\nsecond line; exit 3 '\\'`;
    await writeFiles(repo, { 'a.txt': 'b\n' });
    const commit = await shell.run(['commit', '-q', '-a', '-m', message]);
    expect(commit.exitCode).toBe(0);
    expect(await git(repo, 'log', '-1', '--format=%B')).toBe(message.trim());
    expect(await git(repo, 'log', '-1', '--format=%an %cn')).toBe('A C');
    await expect(fs.stat(path.join(repo, 'pwned'))).rejects.toThrow();
    await expect(fs.stat(path.join(repo, 'pwned2'))).rejects.toThrow();
    await expect(shell.run(['log', 'a\0b'])).rejects.toThrow(/NUL byte/);
  });

  it('passes the -c settings before every command', async () => {
    const repo = await makeRepo();
    const shell = shellIn(repo, { config: ['x.y=it works', 'core.quotepath=false'] });
    expect((await shell.run(['config', 'x.y'])).stdout.toString()).toBe('it works\n');
  });

  it('answers concurrent callers one at a time, each with its own output', async () => {
    const repo = await makeRepo({ 'a.txt': '0\n' });
    const commits: string[] = [await git(repo, 'rev-parse', 'HEAD')];
    for (let i = 1; i < 6; i++) {
      await writeFiles(repo, { 'a.txt': `${i}\n` });
      await git(repo, 'commit', '-qam', `c${i}`);
      commits.push(await git(repo, 'rev-parse', 'HEAD'));
    }
    const shell = shellIn(repo);
    const order = [3, 0, 5, 1, 4, 2, 2, 5, 0];
    const answers = await Promise.all(order.map((k) => shell.run(['rev-parse', `HEAD~${5 - k}`])));
    expect(answers.map((a) => a.stdout.toString().trim())).toEqual(order.map((k) => commits[k]));
  });
});

describe('GitShell: its life', () => {
  it('ends after idleMs without a command, and the next command starts a new shell', async () => {
    const repo = await makeRepo();
    const shell = shellIn(repo, { idleMs: 50 });
    await shell.run(['rev-parse', 'HEAD']);
    const first = shell.pid;
    expect(first).toBeDefined();
    await until('the idle shell to end', () => dead(first as number));
    expect(shell.pid).toBeUndefined();
    expect((await shell.run(['rev-parse', 'HEAD'])).exitCode).toBe(0);
    expect(shell.pid).not.toBe(first);
  });

  it('a shell killed while idle is replaced: the next command runs once, on a new shell', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const shell = shellIn(repo);
    // Killed and used in the same tick, before its exit is seen (the write fails and the
    // command is sent again), and after (a new shell is started): both must simply work.
    for (let round = 0; round < 6; round++) {
      await shell.run(['rev-parse', 'HEAD']);
      const pid = shell.pid as number;
      process.kill(pid, 'SIGKILL');
      if (round % 2 === 1) await until('the killed shell to be reaped', () => shell.pid !== pid);
      await writeFiles(repo, { 'a.txt': `${round}\n` });
      const committed = await shell.run(['-c', 'user.name=T', '-c', 'user.email=t@x', 'commit', '-q', '-a', '-m', `round ${round}`]);
      expect(committed.exitCode).toBe(0);
      expect(shell.pid).not.toBe(pid);
    }
    // One commit per round: nothing was run twice, nothing lost.
    expect(await git(repo, 'log', '--format=%s', '-6')).toBe([5, 4, 3, 2, 1, 0].map((r) => `round ${r}`).join('\n'));
  });

  it('a shell killed while git runs (SIGKILL) fails that command once the orphaned git has ended, and the next one works', async () => {
    const repo = await makeRepo();
    const gate = await blockingAlias();
    const shell = shellIn(repo, { config: [gate.alias] });
    const blocked = shell.run(['block']);
    let settled = false;
    blocked.then(() => (settled = true), () => (settled = true));
    await gate.started();
    const pid = shell.pid as number;
    process.kill(pid, 'SIGKILL');
    await until('the shell to die and its exit to be seen', () => dead(pid) && shell.pid === undefined);
    const next = shell.run(['rev-parse', 'HEAD']);
    expect(settled).toBe(false); // git still runs: failing now would let `next` run beside it
    await gate.release();
    await expect(blocked).rejects.toThrow(/the shell running `git block` was killed \(SIGKILL\) before git's exit status was read/);
    expect((await next).exitCode).toBe(0);
  });

  it('outlives SIGINT, SIGTERM and SIGHUP sent to every process (a service stop), idle or while git runs', async () => {
    const repo = await makeRepo();
    const gate = await blockingAlias();
    const shell = shellIn(repo, { config: [gate.alias] });
    await shell.run(['rev-parse', 'HEAD']);
    const pid = shell.pid as number;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.kill(pid, signal);
      expect((await shell.run(['rev-parse', '--is-inside-work-tree'])).stdout.toString()).toBe('true\n');
    }
    const blocked = shell.run(['block']);
    await gate.started();
    process.kill(pid, 'SIGTERM'); // the shell only here: the git step goes on
    await gate.release();
    const answer = await blocked;
    expect([answer.exitCode, answer.stdout.toString()]).toEqual([0, 'released\n']);
    expect(shell.pid).toBe(pid);
  });

  it("what git leaves running (a merge driver's background child writing on and on) never reaches a later command's answer", async () => {
    const repo = await makeRepo({ 'a.txt': 'base\n' });
    await git(repo, 'checkout', '-q', '-b', 'theirs');
    await writeFiles(repo, { 'a.txt': 'theirs\n' });
    await git(repo, 'commit', '-qam', 'theirs');
    const theirs = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'checkout', '-q', 'main');
    await writeFiles(repo, { 'a.txt': 'ours\n' });
    await git(repo, 'commit', '-qam', 'ours');
    const head = await git(repo, 'rev-parse', 'HEAD');
    // The straggler runs while this file exists (gone with the temp dir too: never left running).
    const running = path.join(await makeTempDir('ar-gitshell-'), 'running');
    await fs.writeFile(running, '');
    // The agent's merge driver (repository config + info/attributes): it takes theirs and leaves
    // a child that outlives git, writing into git's stdout and stderr until the test ends.
    const forged = '[main 1111111111111111111111111111111111111111] forged';
    await git(repo, 'config', 'merge.evil.driver', `sh -c '(while [ -e "${running}" ]; do echo "${forged}"; echo late >&2; sleep 0.005; done) </dev/null & cp %B %A'`);
    await fs.writeFile(path.join(repo, '.git', 'info', 'attributes'), 'a.txt merge=evil\n');
    const shell = shellIn(repo);
    try {
      const picked = await shell.run(['-c', 'user.name=T', '-c', 'user.email=t@x', 'cherry-pick', '--no-commit', theirs]);
      expect(picked.exitCode, picked.stderr.toString()).toBe(0);
      expect(await fs.readFile(path.join(repo, 'a.txt'), 'utf8')).toBe('theirs\n');
      for (let i = 0; i < 20; i++) {
        const answer = await shell.run(['rev-parse', 'HEAD']);
        expect([answer.exitCode, answer.stdout.toString(), answer.stderr.toString()]).toEqual([0, `${head}\n`, '']);
      }
    } finally {
      await fs.rm(running);
    }
  });

  it('a directory for the output files that is gone (a tmp cleaner) is replaced', async () => {
    const repo = await makeRepo();
    const shell = shellIn(repo);
    await shell.run(['rev-parse', 'HEAD']);
    const first = shell.outputDir as string;
    await fs.rm(first, { recursive: true });
    expect((await shell.run(['rev-parse', '--is-inside-work-tree'])).stdout.toString()).toBe('true\n');
    expect(shell.outputDir).not.toBe(first);
  });

  it('takes a relative directory as the process does (from its cwd), and never hands bash-only variables to the shell', async () => {
    const repo = await makeRepo();
    const shell = shellIn(path.relative(process.cwd(), repo), {
      config: ['alias.environment=!env'],
      env: { 'BASH_FUNC_git%%': '() { echo hijacked; }', SHELLOPTS: 'errexit', KEPT: 'yes' },
    });
    expect(shell.dir).toBe(repo);
    const environment = (await shell.run(['environment'])).stdout.toString();
    expect(environment).toMatch(/^KEPT=yes$/m);
    expect(environment).not.toMatch(/BASH_FUNC_|SHELLOPTS/);
    // A non-zero exit is an answer, not the end of the shell.
    expect((await shell.run(['rev-parse', '--verify', '--quiet', 'nope'])).exitCode).toBe(1);
    expect((await shell.run(['rev-parse', '--is-inside-work-tree'])).exitCode).toBe(0);
  });

  it('a directory it cannot remove (an immutable file left in it) never fails a command or our process', async () => {
    const repo = await makeRepo();
    const shell = shellIn(repo, { idleMs: 50 });
    await shell.run(['rev-parse', 'HEAD']);
    const pid = shell.pid as number;
    const stuck = path.join(shell.outputDir as string, 'stuck');
    await fs.writeFile(stuck, '');
    try {
      try {
        execFileSync('chattr', ['+i', stuck], { stdio: 'ignore' });
      } catch {
        console.warn('SKIPPED: chattr +i is not available on this filesystem: no way to make the removal fail as root');
        return;
      }
      await until('the idle shell to end (its directory cannot be removed)', () => dead(pid) && shell.pid === undefined);
      expect((await shell.run(['rev-parse', '--is-inside-work-tree'])).stdout.toString()).toBe('true\n');
    } finally {
      execFileSync('chattr', ['-i', stuck], { stdio: 'ignore' });
      await fs.rm(path.dirname(stuck), { recursive: true, force: true });
    }
  });

  it('without a usable temp directory (TMPDIR gone): no shell, and a hot GitClient starts git itself', async () => {
    const repo = await makeRepo();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = path.join(await makeTempDir('ar-gitshell-'), 'gone');
    const client = new GitClient(repo, {}, { hot: true });
    try {
      await expect(shellIn(repo).run(['rev-parse', 'HEAD'])).rejects.toThrow(GitShellUnavailable);
      expect((await client.run(['rev-parse', '--is-inside-work-tree'])).stdout).toBe('true\n');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      client.close();
    }
  });

  it('a directory that is gone: GIT_FAILED saying so; it works again once the directory is back', async () => {
    const parent = await makeTempDir('ar-gitshell-');
    const repo = path.join(parent, 'repo');
    await fs.mkdir(repo);
    await git(repo, 'init', '-q');
    const client = new GitClient(repo, {}, { hot: true });
    try {
      await client.run(['status', '--porcelain']);
      await fs.rm(repo, { recursive: true });
      await expect(client.run(['status', '--porcelain'])).rejects.toThrow(/git status --porcelain failed: its directory .*repo does not exist \(deleted\?\)/);
      await expect(client.run(['status', '--porcelain'])).rejects.toThrow(/does not exist \(deleted\?\)/); // no shell to start there either
      await fs.mkdir(repo);
      await git(repo, 'init', '-q');
      expect((await client.run(['status', '--porcelain'])).exitCode).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('GitShell: our process', () => {
  // The built module (dist/, made by the global setup): a plain node process, as ours runs.
  const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/git/git-shell.js');
  const script = (body: string) => `import { GitShell } from ${JSON.stringify(built)};\n${body}`;

  /** A node process that runs `body` (which makes `shell`), then prints the shell's pid and directory and stays. */
  async function processWithShell(body: string) {
    const child = execa('node', ['--input-type=module', '-e', script(`${body}\nconsole.log(shell.pid, shell.outputDir);\nsetInterval(() => {}, 1000);`)], { reject: false });
    const [pid, outputDir] = await new Promise<[number, string]>((resolve) =>
      child.stdout?.once('data', (d: Buffer) => {
        const [p, o] = d.toString().trim().split(' ');
        resolve([Number(p), o as string]);
      }),
    );
    return { child, pid, outputDir };
  }

  it('an idle shell does not keep our process alive; a command in flight does', async () => {
    const repo = await makeRepo();
    // Nothing else holds the event loop: the process ends once the answer is printed, long before the idle time.
    const { stdout, exitCode } = await execa('node', ['--input-type=module', '-e', script(`
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, [], 600_000);
      shell.run(['rev-parse', '--is-inside-work-tree']).then((r) => console.log(r.stdout.toString().trim(), shell.pid));
    `)], { timeout: 60_000 });
    expect(exitCode).toBe(0);
    const [answer, pid] = stdout.split(' ');
    expect(answer).toBe('true');
    await until('the shell of the exited process to end', () => dead(Number(pid)));
  });

  it('a Ctrl-C (SIGINT to our process group) reaches us, not the git step under way: it finishes', async () => {
    const repo = await makeRepo();
    const gate = await blockingAlias();
    const child = execa('node', ['--input-type=module', '-e', script(`
      process.on('SIGINT', () => console.log('SIGINT'));
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, [${JSON.stringify(gate.alias)}]);
      const answer = await shell.run(['block']);
      console.log('answer', answer.exitCode, answer.stdout.toString().trim());
      shell.close();
    `)], { detached: true, reject: false }); // a group of its own, as a terminal makes for a foreground job
    const lines: string[] = [];
    child.stdout?.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
    await gate.started();
    process.kill(-(child.pid as number), 'SIGINT');
    await until('our process to get the SIGINT', () => lines.includes('SIGINT'));
    await gate.release();
    await child;
    expect(lines).toEqual(['SIGINT', 'answer 0 released']);
  });

  it('killed while git runs: git finishes, and the shell ends and removes its directory (its status line cannot be written)', async () => {
    const repo = await makeRepo();
    const gate = await blockingAlias();
    const { child, pid, outputDir } = await processWithShell(`
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, [${JSON.stringify(gate.alias)}]);
      void shell.run(['block']);
      await new Promise((resolve) => setImmediate(resolve));
    `);
    await gate.started();
    child.kill('SIGKILL');
    await child;
    await gate.release();
    await until('the shell to end', () => dead(pid));
    await expect(fs.stat(outputDir)).rejects.toThrow(/ENOENT/);
  });

  it('the first shell a process starts removes the directories of processes that are gone (a shell killed with SIGKILL cannot), in its own namespaces only', async () => {
    const repo = await makeRepo();
    const tmp = await makeTempDir('ar-gitshell-tmp-');
    const gone = execa('true');
    await gone;
    const me = readProcStat(process.pid);
    const ns = (kind: string) => {
      try {
        return String(statSync(`/proc/self/ns/${kind}`).ino);
      } catch {
        return '0';
      }
    };
    const ours = `${ns('pid')}.${ns('time')}`;
    const left = {
      dead: path.join(tmp, `autoresearch-git-${ours}.${gone.pid}.1-AbC123`),
      reused: path.join(tmp, `autoresearch-git-${ours}.${process.pid}.${(me?.startTime ?? 0) + 1}-AbC123`), // our pid, another start time
      live: path.join(tmp, `autoresearch-git-${ours}.${process.pid}.${me?.startTime}-XyZ789`),
      otherContainer: path.join(tmp, `autoresearch-git-1.1.${gone.pid}.1-AbC123`), // a dead pid, but in other namespaces
      other: path.join(tmp, 'autoresearch-git-not-ours'),
    };
    for (const dir of Object.values(left)) await fs.mkdir(dir);
    await fs.writeFile(path.join(left.dead, 'x.out'), 'left behind');
    await execa('node', ['--input-type=module', '-e', script(`
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, []);
      await shell.run(['rev-parse', 'HEAD']);
      shell.close();
    `)], { env: { TMPDIR: tmp } });
    const remaining = (await fs.readdir(tmp)).sort();
    expect(remaining).toEqual([left.other, left.live, left.otherContainer].map((d) => path.basename(d)).sort());
  });

  it('a relative TMPDIR is taken from our cwd (the shell runs git from the worktree)', async () => {
    const repo = await makeRepo();
    const cwd = await makeTempDir('ar-gitshell-cwd-');
    await fs.mkdir(path.join(cwd, 'tmp'));
    const { stdout } = await execa('node', ['--input-type=module', '-e', script(`
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, []);
      const answer = await shell.run(['rev-parse', '--is-inside-work-tree']);
      console.log(answer.exitCode, answer.stdout.toString().trim(), shell.outputDir.startsWith(${JSON.stringify(path.join(cwd, 'tmp') + '/')}));
      shell.close();
    `)], { cwd, env: { TMPDIR: 'tmp' } });
    expect(stdout).toBe('0 true true');
  });

  it('the shell ends when our process is killed (its stdin ends), and removes its directory', async () => {
    const repo = await makeRepo();
    const { child, pid, outputDir } = await processWithShell(`
      const shell = new GitShell(${JSON.stringify(repo)}, { PATH: process.env.PATH }, [], 600_000);
      await shell.run(['rev-parse', 'HEAD']);
    `);
    expect(dead(pid)).toBe(false);
    await fs.stat(outputDir);
    child.kill('SIGKILL');
    await child;
    await until('the orphaned shell to exit', () => dead(pid));
    await expect(fs.stat(outputDir)).rejects.toThrow(/ENOENT/); // removed by the shell on its way out
  });
});
