/**
 * The CLI from any subdirectory of the project: the root is found like git finds its
 * repository (nearest `.autoresearch/`, else the git toplevel). `--path` is taken as given
 * and must be an existing directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { cliEnv, makeProject } from '../helpers/project.js';

async function cliIn(cwd: string, args: string[], env: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('node', [CLI, ...args], { cwd, env, extendEnv: false, reject: false, timeout: 60_000, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('the project root', () => {
  it('is found from a subdirectory: status, results and run work there', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt'], files: { 'src/deep/er/file.txt': 'x\n' } });
    const sub = path.join(project.root, 'src', 'deep', 'er');
    const single = await cliIn(sub, ['run', project.id, '--single'], project.env);
    expect(single.exitCode, single.stderr).toBe(0);
    const status = await cliIn(sub, ['status', '--json'], project.env);
    expect(JSON.parse(status.stdout)).toMatchObject([{ id: 'test/exp', iterations: 1, best: 10 }]);
    const results = await cliIn(sub, ['results', project.id, '--format', 'json'], project.env);
    expect(results.exitCode, results.stderr).toBe(0);
    expect(results.stdout).toContain('baseline');
  });

  it('init in a subdirectory of a repository without .autoresearch writes it at the toplevel', async () => {
    const root = await makeRepo({ 'value.txt': '10\n', 'evaluate.sh': 'echo "score: $(cat value.txt)"\n', 'pkg/src/a.txt': 'a\n' });
    const env = cliEnv();
    const r = await cliIn(path.join(root, 'pkg', 'src'), ['init', 'test/sub', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--no-baseline'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    await expect(fs.stat(path.join(root, '.autoresearch', 'test', 'sub', 'config.cfg'))).resolves.toBeTruthy();
    await expect(fs.stat(path.join(root, 'pkg', 'src', '.autoresearch'))).rejects.toThrow();
  });

  it('the nearest .autoresearch wins (a package of a monorepo), never the user-scope directory', async () => {
    const root = await makeRepo({ 'README.md': 'x\n', 'packages/app/src/a.txt': 'a\n', 'packages/app/value.txt': '1\n' });
    await writeFiles(path.join(root, 'packages', 'app', '.autoresearch', 'test', 'inner'), { 'config.cfg': 'target: value.txt\nevaluate_cmd: true\nmetric: score\n' });
    await writeFiles(path.join(root, '.autoresearch', 'test', 'outer'), { 'config.cfg': 'target: README.md\nevaluate_cmd: true\nmetric: score\n' });
    const env = cliEnv();
    const ids = async (cwd: string) => (JSON.parse((await cliIn(cwd, ['status', '--json'], env)).stdout) as Array<{ id: string }>).map((e) => e.id);
    expect(await ids(path.join(root, 'packages', 'app', 'src'))).toEqual(['test/inner']);
    expect(await ids(path.join(root, 'packages'))).toEqual(['test/outer']);

    // Outside any repository: the user's ~/.autoresearch (user scope) does not make ~ a project.
    const home = await makeTempDir('ar-home-');
    await writeFiles(path.join(home, '.autoresearch', 'test', 'mine'), { 'config.cfg': 'target: x\nevaluate_cmd: true\nmetric: score\n' });
    const scratch = path.join(home, 'scratch', 'dir');
    await fs.mkdir(scratch, { recursive: true });
    const userEnv = { ...env, HOME: home, AUTORESEARCH_HOME: path.join(home, '.autoresearch') };
    const r = await cliIn(scratch, ['status', '--json'], userEnv);
    // (with ~ as the root, ~/.autoresearch would be the project scope: `scope: project`)
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: 'test/mine', scope: 'user' })]);
  });

  it('--path to a missing directory or to a file is an error (exit 1), not "no experiments"', async () => {
    const dir = await makeTempDir('ar-path-');
    const missing = path.join(dir, 'nope');
    for (const command of [['status'], ['results'], ['run', 'test/exp']]) {
      const r = await runCli(['--path', missing, ...command], { env: cliEnv() });
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 1, stderr: `autoresearch: --path ${missing}: no such directory` });
    }
    const file = path.join(dir, 'file.txt');
    await fs.writeFile(file, 'x');
    const r = await runCli(['--path', file, 'status'], { env: cliEnv() });
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 1, stderr: `autoresearch: --path ${file}: expected a directory, found a file` });
  });
});
