/**
 * Review of issue 13 item 5 (Worktree.restore cleanLater + settled()): the rollback's
 * `git clean` runs on while the next iteration is prepared, and only the agent's spawn
 * (candidate.ts) awaits `settled()`. A baseline that measured nothing is run again as the
 * next iteration: no agent, so nothing awaits the clean, and the baseline's evaluation runs
 * in the worktree while `git clean -f -f -d` removes untracked files there, including
 * the ones the evaluation is writing. The evaluation then fails through no fault of the
 * code: a wrong crash row (and a step towards the circuit breaker).
 *
 * Deterministic: a `git` wrapper on PATH holds the one armed clean until the evaluation
 * says it started (bounded wait: when the evaluation correctly waits for the clean, the
 * wrapper gives up after a few seconds and the clean runs first).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

const REAL_GIT = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

/** A `git` that holds `git clean` (once armed) until $MARKS/eval-started exists, up to ~5 s. */
function gitWrapper(dir: string): void {
  fs.writeFileSync(
    path.join(dir, 'git'),
    `#!/bin/sh
case " $* " in
  *" clean "*)
    if [ -e "$MARKS/armed" ]; then
      rm -f "$MARKS/armed"
      touch "$MARKS/clean-running"
      i=0
      while [ ! -e "$MARKS/eval-started" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
      ${REAL_GIT} "$@"; s=$?
      rm -f "$MARKS/clean-running"
      exit $s
    fi
    ;;
esac
exec ${REAL_GIT} "$@"
`,
    { mode: 0o755 },
  );
}

/**
 * The first evaluation prints no metric (a baseline crash) and arms the wrapper. Every later
 * one writes its output file under build/ (untracked, not ignored: what a build leaves), says
 * it started, lets a running clean finish, and prints the metric from that file.
 */
const EVALUATE = `n=$(cat "$MARKS/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$MARKS/count"
if [ $n -eq 1 ]; then touch "$MARKS/armed"; echo "no metric the first time"; exit 1; fi
mkdir -p build
cat value.txt > build/out.txt
touch "$MARKS/eval-started"
i=0
while [ -e "$MARKS/clean-running" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "score: $(cat build/out.txt)"
`;

describe('restore cleanLater: a baseline run again after a baseline crash', () => {
  it("does not evaluate while the crashed baseline's rollback is still cleaning the worktree", async () => {
    const marks = await makeTempDir('ar-marks-');
    const bin = await makeTempDir('ar-gitwrap-');
    gitWrapper(bin);
    const project = await makeProject({ plan: [''], files: { 'evaluate.sh': EVALUATE }, config: { max_consecutive_crashes: '5' } });
    const env = { ...project.env, MARKS: marks, PATH: `${bin}:${project.env.PATH}` };

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env, timeoutMs: 90_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows[0]?.status).toBe('crash'); // the first baseline: no metric
    // The second baseline's evaluation is fine: the clean of the first one's rollback must not
    // delete what it writes while it runs.
    expect(rows.slice(1, 2).map((row) => [row.status, row.reason, row.metric])).toEqual([['keep', 'baseline', '10.000000']]);
  }, 120_000);
});
