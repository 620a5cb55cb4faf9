/**
 * Helpers for escapee tests: a process that leaves its process group (double fork + setsid)
 * and edits the worktree once the evaluation of iteration 1 has started, unless it was killed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { isRunning } from '../process/helpers.js';

/**
 * A shell snippet that double-forks a `setsid` process: it records its pid in
 * $MARK/escapee.pid, waits (bounded, 20 s) for $MARK/eval-1, then writes 1 to value.txt
 * and touches $MARK/edited. The snippet returns once the escapee runs in its own session.
 */
export const ESCAPEE =
  `( setsid sh -c 'echo $$ > "$MARK/escapee.pid"; i=0; while [ ! -e "$MARK/eval-1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; ` +
  `[ -e "$MARK/eval-1" ] && echo 1 > value.txt && touch "$MARK/edited"' > /dev/null 2>&1 & ); ` +
  // The starter waits until the escapee has left (else the group kill may reach it first).
  `j=0; while [ ! -s "$MARK/escapee.pid" ] && [ $j -lt 500 ]; do sleep 0.02; j=$((j+1)); done`;

/**
 * The evaluation: marks its start, gives a surviving escapee up to 2 s to edit value.txt
 * (it reports its edit by a file, so a live escapee is always seen), then prints the value.
 */
export const EVALUATE_SH =
  'touch "$MARK/eval-$AUTORESEARCH_ITERATION"\n' +
  'i=0; while [ "$AUTORESEARCH_ITERATION" = 1 ] && [ ! -e "$MARK/edited" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done\n' +
  'echo "score: $(cat value.txt)"\n';

/** Running: the process exists and is not a zombie (PID 1 here may never reap it). */
export { isRunning };

export function escapeePid(mark: string): number | null {
  try {
    const text = fs.readFileSync(path.join(mark, 'escapee.pid'), 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Marks of the escapees a test file started: whatever still runs at the end is killed. */
export function killEscapeesAfterAll(): string[] {
  const marks: string[] = [];
  afterAll(() => {
    for (const mark of marks) {
      const pid = escapeePid(mark);
      if (pid !== null && isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });
  return marks;
}
