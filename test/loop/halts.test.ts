/** Exit codes and stops: the circuit breaker (3), resume, --dry-run (changes nothing). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

describe('stops and exit codes', () => {
  it('trips after max_consecutive_crashes, refuses to run while tripped, and resume clears it', async () => {
    const project = await makeProject({ config: { evaluate_cmd: 'sh broken.sh', max_consecutive_crashes: '2' } });
    const tripped = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(tripped.exitCode).toBe(3);
    expect(tripped.stderr).toMatch(/tripped: 2 consecutive crashes.*autoresearch resume test\/exp/);
    // The breaker quotes the last crash's why: what `status` shows for the tripped experiment.
    expect(tripped.stderr).toMatch(/2 consecutive crashes; last: eval_exit \d+: .*broken\.sh.* \(max_consecutive_crashes: 2\)/);
    expect((await project.rows()).map((r) => [r.status, r.reason])).toEqual([
      ['crash', 'eval_exit'],
      ['crash', 'eval_exit'],
    ]);

    const again = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(again.exitCode).toBe(3);
    expect((await project.rows()).length).toBe(2);

    const resumed = await runCli(['--path', project.root, 'resume', project.id], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), (await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8')).replace('sh broken.sh', 'sh evaluate.sh'));
    const fixed = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(fixed.exitCode).toBe(0);
    expect((await project.rows()).at(-1)?.reason).toBe('baseline');
  });

  it('--dry-run says what would happen and changes nothing', async () => {
    const project = await makeProject();
    const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/dry run/);
    expect(r.stdout).toMatch(/would be created from [0-9a-f]{7}/);
    expect(r.stdout).toMatch(/baseline/);
    for (const f of ['results.tsv', 'state.json', 'runs', 'run.lock', 'autoresearch.log']) {
      await expect(fs.stat(path.join(project.expDir, f))).rejects.toThrow();
    }
    expect(await git(project.root, 'branch', '--list', 'autoresearch/*')).toBe('');
  });
});
