/**
 * In a run without drafts, an iteration's decided state is written with the next iteration's
 * intent (InLoop.deferDecidedWrite), not on its own. What must still hold: the next agent
 * already finds that decision on disk, and a run that ends (by its limit, a pause request,
 * a signal) leaves state.json with it and no intent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

interface SeenState {
  lastKept: { commit: string; metric: number | null; iteration: number | null };
  intent: null | { phase: string; iteration: number; decided?: boolean };
  digest?: { iterations: number; keeps: number; discards: number };
  consecutiveNoChange?: number;
}

describe('the decided state of an iteration', () => {
  it('is on disk when the next agent runs, and the run ends with it written and no intent', async () => {
    const seen = await makeTempDir('ar-seen-');
    const project = await makeProject({});
    const stateFile = path.join(project.expDir, 'state.json');
    // 1: a keep (lower is better); 2: copies the state it runs under, then a discard; 3: no change.
    fs.writeFileSync(project.planFile, ['echo 4 > value.txt', `cp '${stateFile}' '${seen}/at-2.json'; echo 12 > value.txt`, `cp '${stateFile}' '${seen}/at-3.json'`].join('\n') + '\n');

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'keep'],
      ['2', 'discard'],
      ['3', 'discard'],
    ]);

    const at2 = JSON.parse(fs.readFileSync(path.join(seen, 'at-2.json'), 'utf8')) as SeenState;
    expect(at2.intent).toMatchObject({ phase: 'agent', iteration: 2 });
    expect(at2.lastKept).toMatchObject({ metric: 4, iteration: 1 });
    expect(at2.digest).toMatchObject({ iterations: 2, keeps: 2, discards: 0 });
    const at3 = JSON.parse(fs.readFileSync(path.join(seen, 'at-3.json'), 'utf8')) as SeenState;
    expect(at3.intent).toMatchObject({ phase: 'agent', iteration: 3 });
    expect(at3.lastKept).toMatchObject({ metric: 4, iteration: 1 });
    expect(at3.digest).toMatchObject({ iterations: 3, keeps: 2, discards: 1 });

    const end = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as SeenState;
    expect(end.intent).toBeNull();
    expect(end.digest).toMatchObject({ iterations: 4, keeps: 2, discards: 2 });
    expect(end.consecutiveNoChange).toBe(1);
  });

  it('is written before a pause request ends the run between iterations', async () => {
    const project = await makeProject({});
    // Iteration 2's agent asks for a pause (as `autoresearch pause` does with no daemon): taken between iterations 2 and 3.
    const request = path.join(project.expDir, 'pause.request');
    fs.writeFileSync(project.planFile, ['echo 4 > value.txt', `: > '${request}'; echo 12 > value.txt`, 'echo 3 > value.txt'].join('\n') + '\n');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.stderr).toMatch(/is paused: paused by `autoresearch pause`/);
    expect(r.exitCode).toBe(3); // SPEC: halted
    expect((await project.rows()).map((row) => row.iteration)).toEqual(['0', '1', '2']);
    const end = JSON.parse(fs.readFileSync(path.join(project.expDir, 'state.json'), 'utf8')) as SeenState & { halt: { state: string } | null };
    expect(end.halt).toMatchObject({ state: 'paused' });
    expect(end.intent).toBeNull();
    expect(end.digest).toMatchObject({ iterations: 3, keeps: 2, discards: 1 });
  });
});

describe('the rollback of an iteration the next one follows straight on', () => {
  it('has removed every untracked file the evaluation made before the next agent starts, and at the end of the run', async () => {
    const seen = await makeTempDir('ar-seen-');
    // Many files: their removal takes far longer than preparing the next turn does.
    const project = await makeProject({ config: { evaluate_cmd: 'mkdir -p junk && (cd junk && seq 1 3000 | xargs touch) && sh evaluate.sh' } });
    fs.writeFileSync(project.planFile, ['echo 12 > value.txt', `ls junk 2>/dev/null | wc -l > '${seen}/at-2'; echo 13 > value.txt`, `ls junk 2>/dev/null | wc -l > '${seen}/at-3'; echo 14 > value.txt`].join('\n') + '\n');

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'discard'],
      ['2', 'discard'],
      ['3', 'discard'],
    ]);
    expect(fs.readFileSync(path.join(seen, 'at-2'), 'utf8').trim()).toBe('0');
    expect(fs.readFileSync(path.join(seen, 'at-3'), 'utf8').trim()).toBe('0');
    expect(fs.existsSync(path.join(await project.worktree(), 'junk')), 'the last rollback finished before the run ended').toBe(false);
  });
});
