/**
 * pipeline: true: a drafted iteration whose row is decided without an evaluation (here
 * stale_base) has an intent on disk when its row is written, as after an agent turn, so a
 * kill right after the row finds the intent that counts it (recovery finishes from the row)
 * instead of a draft it would call interrupted.
 *
 * Deterministic: a `git` wrapper on PATH copies state.json and results.tsv at every
 * `checkout --force` (the restore that follows each row), the moment a kill would see.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

const REAL_GIT = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

describe('pipeline: a drafted row decided without an evaluation', () => {
  it('is written with the iteration\'s intent on disk (a kill after it is finished from the row)', async () => {
    const snaps = await makeTempDir('ar-snaps-');
    const bin = await makeTempDir('ar-gitwrap-');
    const project = await makeProject({
      config: { pipeline: 'true', evaluate_cmd: 'echo "score: $(cat value.txt)"' },
      plan: [
        'echo 5 > value.txt', // 1: kept
        'echo 7 > value.txt', // 2: drafted on the baseline while 1 is evaluated: conflicts with 1's keep, stale_base
      ],
    });
    fs.writeFileSync(
      path.join(bin, 'git'),
      `#!/bin/sh
case " $* " in
  *" checkout --force "*)
    n=$(ls '${snaps}' | wc -l)
    mkdir '${snaps}'/$n && cp '${project.expDir}/state.json' '${project.expDir}/results.tsv' '${snaps}'/$n/ ;;
esac
exec ${REAL_GIT} "$@"
`,
      { mode: 0o755 },
    );
    const env = { ...project.env, PATH: `${bin}:${project.env.PATH}` };
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'keep', 'improved'],
      ['2', 'discard', 'stale_base'],
    ]);

    // The restore right after row 2: what a kill there would find.
    const afterRow2 = fs
      .readdirSync(snaps)
      .map((n) => path.join(snaps, n))
      .find((dir) => fs.readFileSync(path.join(dir, 'results.tsv'), 'utf8').trimEnd().split('\n').length === 4);
    expect(afterRow2, 'a restore after row 2').toBeDefined();
    const state = JSON.parse(fs.readFileSync(path.join(afterRow2 ?? '', 'state.json'), 'utf8')) as { intent: { phase: string; iteration: number } | null };
    expect(state.intent).toMatchObject({ phase: 'agent', iteration: 2 });
  });
});
