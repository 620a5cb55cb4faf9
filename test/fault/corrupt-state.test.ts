/**
 * A corrupt state.json (faults.md §3 row 5; Ray #58179 restarts fresh silently): the run
 * stops with exit 1 and a message naming the file, and nothing runs: no agent, no
 * evaluation, no row, no git change, and the run lock is released.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { branchTip, projectWithBaseline } from './helpers/interrupted.js';

const corruptions: { name: string; corrupt: (text: string) => string }[] = [
  { name: 'truncated mid-file', corrupt: (text) => text.slice(0, Math.floor(text.length / 2)) },
  { name: 'empty', corrupt: () => '' },
  { name: 'valid JSON of the wrong shape', corrupt: () => '{"version": 1}\n' },
];

describe('a corrupt state.json', () => {
  it.each(corruptions)('$name: exit 1 naming the file, nothing runs', async ({ corrupt }) => {
    const marker = path.join(await makeTempDir('ar-marker-'), 'agent-ran');
    const project = await projectWithBaseline([`touch ${marker}; echo 4 > value.txt`]);
    const stateFile = path.join(project.expDir, 'state.json');
    fs.writeFileSync(stateFile, corrupt(fs.readFileSync(stateFile, 'utf8')));
    const ledgerBefore = fs.readFileSync(path.join(project.expDir, 'results.tsv'), 'utf8');
    const runsBefore = fs.readdirSync(path.join(project.expDir, 'runs'));
    const tipBefore = await branchTip(project);
    const stateBefore = fs.readFileSync(stateFile, 'utf8');

    const r = await runCli(['--path', project.root, 'run', project.id, '--loop'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(stateFile);
    expect(r.stderr).toMatch(/Refusing to start fresh/);
    expect(fs.existsSync(marker), 'the agent ran').toBe(false);
    expect(fs.readFileSync(path.join(project.expDir, 'results.tsv'), 'utf8')).toBe(ledgerBefore);
    expect(fs.readdirSync(path.join(project.expDir, 'runs'))).toEqual(runsBefore);
    expect(await branchTip(project)).toBe(tipBefore);
    expect(fs.readFileSync(stateFile, 'utf8'), 'the corrupt file must be left for inspection').toBe(stateBefore);
    expect(fs.existsSync(path.join(project.expDir, 'run.lock'))).toBe(false);
  });
});
