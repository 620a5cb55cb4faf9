/**
 * A newer keep in results.tsv (one the seed skill recorded) adopted on start: the experiment
 * continues from it, and what the experiment branch held before stays reachable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

describe('adopting a newer keep from the ledger', () => {
  it("keeps the experiment's own kept commits reachable when the adopted keep is not on its branch", async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt'] });
    const run = () => runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect((await run()).exitCode).toBe(0);
    expect((await run()).exitCode).toBe(0);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as { branch: string; lastKept: { commit: string; metric: number } };
    expect(state.lastKept.metric).toBe(8);
    const ourKeep = state.lastKept.commit;

    // The skill, run on the user's main (--skip-branch), commits and records a keep there.
    await fs.writeFile(path.join(project.root, 'value.txt'), '5\n');
    await git(project.root, '-c', 'user.name=u', '-c', 'user.email=u@example.com', 'commit', '-qam', 'skill change');
    const skillCommit = await git(project.root, 'rev-parse', '--short=7', 'HEAD');
    await fs.appendFile(path.join(project.expDir, 'results.tsv'), `${skillCommit}\t5.000000\tkeep\tskill change\n`);

    const r = await run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('adopted the last keep');
    // Our kept commit (iteration 1) is still reachable from a ref, and the log says where.
    const holders = (await git(project.root, 'for-each-ref', '--contains', ourKeep, '--format=%(refname)')).split('\n').filter((l) => l !== '');
    expect(holders.length, `refs containing ${ourKeep}`).toBeGreaterThan(0);
    expect(r.stderr).toContain(holders.find((h) => h.startsWith('refs/autoresearch/')) ?? 'a refs/autoresearch/ ref');
  });
});
