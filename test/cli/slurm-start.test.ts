/**
 * executor: slurm at start (issue 12), through the real CLI: `sinfo` must answer, the nodes
 * must see the worktree and the experiment directory, and slurm_args without executor: slurm
 * is a warning. A fake `sinfo` first on PATH plays the cluster (a controller that is down, a
 * cluster whose nodes are other hosts); the real one, when this machine has a cluster, is
 * the one-node case.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

/** A directory holding a fake `sinfo` that records its arguments and answers with `script`. */
async function fakeSinfo(script: string): Promise<{ dir: string; argsFile: string }> {
  const dir = await makeTempDir('ar-fake-slurm-');
  const argsFile = path.join(dir, 'sinfo.args');
  await fs.writeFile(path.join(dir, 'sinfo'), `#!/bin/sh\necho "$@" >> '${argsFile}'\n${script}\n`, { mode: 0o755 });
  return { dir, argsFile };
}

const withPath = (env: Record<string, string>, dir: string) => ({ ...env, PATH: `${dir}:${env.PATH ?? ''}` });

async function lineOf(file: string, key: string): Promise<number> {
  return (await fs.readFile(file, 'utf8')).split('\n').findIndex((l) => l.startsWith(`${key}:`)) + 1;
}

describe('executor: slurm start checks', () => {
  it('refuses to start when sinfo cannot reach the controller, with sinfo\'s own words, and writes nothing', async () => {
    const project = await makeProject({ config: { executor: 'slurm' } });
    const sinfo = await fakeSinfo('echo "sinfo: error: Unable to contact slurm controller (connect failure)" >&2; exit 1');
    const env = withPath(project.env, sinfo.dir);
    const config = path.join(project.expDir, 'config.cfg');
    const where = `${config}:${await lineOf(config, 'executor')}: executor:`;

    const dry = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env });
    expect(dry.exitCode).toBe(1);
    expect(dry.stderr).toContain(`${where} \`slurm\` needs the SLURM client tools (sinfo, sbatch, squeue, scancel) on PATH and a reachable controller`);
    expect(dry.stderr).toContain('sinfo: error: Unable to contact slurm controller (connect failure)');

    const run = await runCli(['--path', project.root, 'run', project.id, '--single'], { env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('cannot start (nothing was run)');
    expect(run.stderr).toContain('Unable to contact slurm controller');
    await expect(fs.access(path.join(project.expDir, 'state.json'))).rejects.toThrow();
    await expect(fs.access(path.join(project.expDir, 'results.tsv'))).rejects.toThrow();
  });

  it('says when there is no sinfo on PATH at all', async () => {
    const project = await makeProject({ config: { executor: 'slurm' } });
    const bin = await makeTempDir('ar-bin-');
    // node, git and sh only: no SLURM tools.
    await fs.symlink(process.execPath, path.join(bin, 'node'));
    for (const tool of ['git', 'sh']) {
      const found = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      await fs.symlink(found, path.join(bin, tool));
    }
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: { ...project.env, PATH: bin } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`found no \`sinfo\` on PATH (PATH=${bin})`);
  });

  it('refuses a worktree on this host\'s own disk when the jobs run on other nodes, naming path, type, nodes and fix', async () => {
    const project = await makeProject({ config: { executor: 'slurm', slurm_args: '--partition=gpu --gres=gpu:1' } });
    const sinfo = await fakeSinfo('printf "gpu-node1\\ngpu-node2\\ngpu-node1\\n"');
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: withPath(project.env, sinfo.dir) });
    expect(r.exitCode).toBe(1);
    // The partition of slurm_args is the one asked about.
    expect((await fs.readFile(sinfo.argsFile, 'utf8')).trim()).toBe('-h -N -o %N -p gpu');
    const worktrees = project.env.AUTORESEARCH_WORKTREES as string;
    expect(r.stderr).toMatch(new RegExp(`executor: expected the worktree ${worktrees}/\\S+/test/exp on a filesystem the cluster's nodes share .*, found \`[^\`]+\`, local to this host \\(${os.hostname().split('.')[0]}\\), while the jobs run on nodes gpu-node1, gpu-node2; set AUTORESEARCH_WORKTREES to a directory on the shared filesystem`));
    expect(r.stderr).toContain(`expected the experiment directory ${project.expDir} on a filesystem the cluster's nodes share`);
  });

  it('accepts the same disk when a site declares its type shared, or when the only node is this host', async () => {
    const project = await makeProject({ config: { executor: 'slurm' } });
    const others = await fakeSinfo('echo gpu-node1');
    const refused = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: withPath(project.env, others.dir) });
    const type = /found `([^`]+)`, local to this host/.exec(refused.stderr)?.[1];
    expect(type, refused.stderr).toBeDefined();
    const declared = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], {
      env: { ...withPath(project.env, others.dir), AUTORESEARCH_SHARED_FILESYSTEMS: `nfs,${type}` },
    });
    expect(declared.stderr).toBe('');
    expect(declared.exitCode).toBe(0);

    const self = await fakeSinfo(`echo ${os.hostname().split('.')[0]}`);
    const oneNode = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: withPath(project.env, self.dir) });
    expect(oneNode.exitCode, oneNode.stderr).toBe(0);
  });

  it('names slurm_args when its partition has no nodes', async () => {
    const project = await makeProject({ config: { executor: 'slurm', slurm_args: '-p nosuch' } });
    const sinfo = await fakeSinfo('exit 0');
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: withPath(project.env, sinfo.dir) });
    expect(r.exitCode).toBe(1);
    const config = path.join(project.expDir, 'config.cfg');
    expect(r.stderr).toContain(`${config}:${await lineOf(config, 'slurm_args')}: slurm_args: expected the partition \`nosuch\` to have nodes, found none`);
  });

  it('a local experiment never asks sinfo', async () => {
    const project = await makeProject();
    const sinfo = await fakeSinfo('exit 1');
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: withPath(project.env, sinfo.dir) });
    expect(r.exitCode).toBe(0);
    await expect(fs.access(sinfo.argsFile)).rejects.toThrow();
  });
});

/** Whether this machine has a SLURM cluster up (CI brings one up with .ci/slurm-up). */
const clusterUp = await execa('sinfo', ['-h', '-o', '%T'], { reject: false, timeout: 20_000 }).then((r) => r.exitCode === 0 && r.stdout.trim() !== '');
if (!clusterUp) console.warn('SKIPPED: the real-cluster start check (no SLURM cluster answers `sinfo` here; `bash .ci/slurm-up` brings one up)');

describe.skipIf(!clusterUp)('executor: slurm on the real one-node cluster', () => {
  it('run --dry-run passes the checks and shows the sbatch arguments', async () => {
    const project = await makeProject({ config: { executor: 'slurm', slurm_args: '--partition=debug --constraint="a b"' } });
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("executor:  slurm: one batch job per evaluation (sbatch --partition=debug '--constraint=a b')");
  });
});

describe('slurm_args without executor: slurm', () => {
  it('is a start warning in run --dry-run and run, and the evaluation runs locally', async () => {
    const project = await makeProject({ config: { slurm_args: '--partition=gpu --gres=gpu:1' } });
    const warning = 'slurm_args is set (--partition=gpu --gres=gpu:1) but executor is local, so evaluations run on this machine and the arguments are not used; add `executor: slurm`';
    const dry = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain(`warning:   ${warning}`);
    const run = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain(warning);
    expect(await project.rows()).toMatchObject([{ status: 'keep', metric: '10.000000' }]);
  });
});
