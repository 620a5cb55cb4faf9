/**
 * Careless user: a `target`/`scope` that matches no file, an agent that is not installed.
 * `run` refuses at start (exit 1, a located message, nothing written: no row, no state, no
 * worktree, no branch), `--dry-run` reports the same, the daemon holds the experiment
 * `blocked` with the reason instead of writing crash rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { plainFirstWord } from '../../src/experiment/preflight.js';
import { apiStatus, daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil } from '../daemon/helpers.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject, PLAN_AGENT, type TestProject } from '../helpers/project.js';

async function expectNothingWritten(project: TestProject): Promise<void> {
  for (const f of ['results.tsv', 'state.json', 'runs', 'run.lock']) expect(fs.existsSync(path.join(project.expDir, f))).toBe(false);
  expect(await git(project.root, 'branch', '--list', 'autoresearch/*')).toBe('');
}

/** The test's PATH without any directory that holds `name` (node stays reachable through a link). */
async function pathWithout(name: string): Promise<string> {
  const bin = await makeTempDir('ar-bin-');
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const dirs = (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter).filter((d) => d !== '' && !fs.existsSync(path.join(d, name)));
  return [bin, ...dirs].join(path.delimiter);
}

describe('preflight: refused at start, before any row', () => {
  it('a target that matches no committed file', async () => {
    const project = await makeProject({ config: { target: 'value.txt, modle.py' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/experiment test\/exp cannot start/);
    expect(r.stderr).toMatch(/config\.cfg:1: target: expected `modle\.py` to match at least one file committed at HEAD, found none/);
    expect(r.stderr).not.toMatch(/internal error/i);
    await expectNothingWritten(project);
  });

  it('a scope that matches no file (a typo), while the target is fine', async () => {
    const project = await makeProject({ config: { scope: 'value.txt, scr/**' } });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/config\.cfg:\d+: scope: expected `scr\/\*\*` to match at least one file/);
    expect(r.stderr).not.toMatch(/`value\.txt`/);
    await expectNothingWritten(project);
  });

  it('agent: claude with no claude on PATH', async () => {
    const project = await makeProject({ config: { agent: 'claude' } });
    const env = { ...project.env, PATH: await pathWithout('claude') };
    const r = await runCli(['--path', project.root, 'run', project.id], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/config\.cfg:\d+: agent: expected the `claude` CLI on PATH, found none .*install it \(npm install -g @anthropic-ai\/claude-code\)/);
    await expectNothingWritten(project);
  });

  it('a command agent whose program is not installed, or an absolute path that is not executable', async () => {
    const project = await makeProject({ config: { agent: 'no-such-agent-9x --model big', agent_fallback: '/nonexistent/agent.sh' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/agent: expected the program `no-such-agent-9x` \(the first word of `no-such-agent-9x --model big`\) on PATH, found none/);
    expect(r.stderr).toMatch(/agent_fallback: expected `\/nonexistent\/agent\.sh` .* to be an executable file, found nothing there/);
    await expectNothingWritten(project);
  });

  it('leaves shell syntax to the shell: assignments, builtins, sh -c, relative paths run as before', async () => {
    expect(plainFirstWord('claude -p')).toBe('claude');
    expect(plainFirstWord('/opt/bin/agent --x')).toBe('/opt/bin/agent');
    for (const command of ['FOO=1 missing-prog', 'cd sub && missing-prog', 'sh -c "missing-prog"', '"quoted prog"', '$AGENT run', '(missing-prog)', 'exec missing-prog', 'time missing-prog', '~/bin/agent']) {
      expect(plainFirstWord(command) === null || plainFirstWord(command) === 'sh').toBe(true);
    }
    // Not refused: the shell runs it (the plan agent, with an empty plan: no change).
    const project = await makeProject({ config: { agent: 'PLAN=1 cd . && sh "$PLAN_AGENT_PATH"' } });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: { ...project.env, PLAN_AGENT_PATH: PLAN_AGENT } });
    expect(r.stderr).not.toMatch(/cannot start/);
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline', 'no_change']);
  });

  it('--dry-run reports the same problems (exit 1) and writes nothing', async () => {
    const project = await makeProject({ config: { target: 'gone.txt', agent: 'no-such-agent-9x' } });
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/dry run: nothing will be changed/);
    expect(r.stderr).toMatch(/experiment test\/exp would not start/);
    expect(r.stderr).toMatch(/target: expected `gone\.txt`/);
    expect(r.stderr).toMatch(/agent: expected the program `no-such-agent-9x`/);
    await expectNothingWritten(project);

    const fine = await makeProject();
    const ok = await runCli(['--path', fine.root, 'run', fine.id, '--dry-run'], { env: fine.env });
    expect(ok.exitCode).toBe(0);
  });
});

describe.skipIf(process.platform !== 'linux')('preflight in the daemon', () => {
  const tags: string[] = [];
  afterEach(async () => {
    await killDaemons(tags.splice(0));
  });

  it('an experiment whose agent is not installed is blocked with the reason, writes no row; the others run', async () => {
    const project = await makeDaemonProject(['pf/good']);
    tags.push(project.tag);
    project.writeConfig('pf/noagent', { extra: { agent: 'no-such-agent-9x' } });
    const info = await startDaemon(project, ['--concurrency', '1']);
    await waitUntil(async () => (await apiStatus(info)).experiments.find((e) => e.id === 'pf/noagent')?.state === 'blocked', 'pf/noagent blocked', 30_000, () => daemonLog(project));
    await waitUntil(() => project.rows('pf/good').length >= 3, 'rows of pf/good', 30_000, () => daemonLog(project));
    const status = await runCli(['--path', project.root, 'daemon', 'status', '--json'], { env: project.env });
    expect(status.stdout).toMatch(/expected the program `no-such-agent-9x`/);
    expect(fs.existsSync(path.join(project.dir('pf/noagent'), 'results.tsv'))).toBe(false);
  });
});
