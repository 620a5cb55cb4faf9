/**
 * Jobs the cluster ended (issue 12: infrastructure.jsonl, no rows) in `report` and `status`,
 * through the real CLI, from a hand-written infrastructure.jsonl next to a real ledger.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

function record(iteration: number, id: string, state: string, node: string | null, action: 'rerun' | 'gave-up', log: string, at: string): string {
  return JSON.stringify({ at, iteration, job: { id, name: `ar-test-exp-${iteration}-1-eval`, state, node }, log, action });
}

describe('infrastructure failures of the cluster', () => {
  it('report lists each one with counts per state, status --json counts them, and a local experiment shows nothing', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt && git commit -qam eight'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--loop', '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);

    // Nothing recorded: no section, no count.
    const before = await runCli(['--path', project.root, 'report', project.id], { env: project.env });
    expect(before.exitCode).toBe(0);
    expect(before.stdout).not.toContain('cluster');
    const statusBefore = JSON.parse((await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env })).stdout) as Array<{ infrastructure_failures: number }>;
    expect(statusBefore[0]?.infrastructure_failures).toBe(0);

    const runs = path.join(project.expDir, 'runs');
    const lines = [
      record(1, '12', 'PREEMPTED', 'vm', 'rerun', path.join(runs, '00001', 'eval.preempted-1.log'), '2026-11-29T10:00:00.000Z'),
      record(1, '13', 'NODE_FAIL', 'gpu7', 'rerun', path.join(runs, '00001', 'eval.node_fail-2.log'), '2026-11-29T10:05:00.000Z'),
      record(2, '20', 'PREEMPTED', null, 'gave-up', '/scratch/elsewhere/eval.log', '2026-11-29T11:00:00.000Z'),
    ];
    // A torn last line (a kill mid-append) is left out.
    await fs.writeFile(path.join(project.expDir, 'infrastructure.jsonl'), `${lines.join('\n')}\n{"at":"2026-11-29T11:`);

    const r = await runCli(['--path', project.root, 'report', project.id], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('  cluster: 3 evaluation jobs ended by the cluster (2 PREEMPTED, 1 NODE_FAIL), no rows');
    const readme = await fs.readFile(path.join(project.expDir, 'report', 'README.md'), 'utf8');
    expect(readme).toContain('| Cluster failures | 3 (2 PREEMPTED, 1 NODE_FAIL), no rows: see [below](#infrastructure-failures-of-the-cluster) |');
    const start = readme.indexOf('\n## Infrastructure failures of the cluster\n');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    expect(section).toContain('3 evaluation jobs ended by the cluster, not by the candidate (2 PREEMPTED, 1 NODE_FAIL): no row was written for them.');
    expect(section).toContain('once it gave up and blocked the experiment until `autoresearch resume`');
    const rows = section.split('\n').filter((l) => /^\| [^w-]/.test(l) && !l.startsWith('|---'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| [^|]+ \| 1 \| `ar-test-exp-1-1-eval` \(id 12\) \| PREEMPTED \| vm \| submitted again \| `runs\/00001\/eval\.preempted-1\.log` \|$/);
    expect(rows[1]).toMatch(/\| 1 \| `ar-test-exp-1-1-eval` \(id 13\) \| NODE_FAIL \| gpu7 \| submitted again \| `runs\/00001\/eval\.node_fail-2\.log` \|$/);
    expect(rows[2]).toMatch(/\| 2 \| `ar-test-exp-2-1-eval` \(id 20\) \| PREEMPTED \| - \| gave up: the experiment was blocked \| `\/scratch\/elsewhere\/eval\.log` \|$/);
    // Not rows: the ledger still has the baseline and the one experiment.
    expect(await project.rows()).toHaveLength(2);

    const status = JSON.parse((await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env })).stdout) as Array<{ infrastructure_failures: number }>;
    expect(status[0]?.infrastructure_failures).toBe(3);
    const text = await runCli(['--path', project.root, 'status', project.id], { env: project.env });
    expect(text.stdout).toContain(`3 evaluation jobs ended by the cluster (no rows; \`autoresearch report ${project.id}\` lists them)`);
  });
});
