/**
 * The second SIGTERM/SIGINT: everything now, no waiting. The graceful path (abort → the
 * executor's scancel and wait) is skipped, so the job an evaluation is waiting for is cancelled
 * here, synchronously, by the name state.json's intent recorded before `sbatch` (and its
 * re-runs' names, job-names.ts). Best effort: a failure leaves it to the next start's recovery.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { jobNames } from './job-names.js';


export function cancelRecordedJobNow(stateFile: string, env: NodeJS.ProcessEnv): void {
  let name: unknown;
  try {
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { intent?: { job?: { name?: unknown } } | null };
    name = state.intent?.job?.name;
  } catch {
    return; // no state, or torn: nothing recorded to cancel
  }
  if (typeof name !== 'string' || name === '') return;
  try {
    // --name takes a comma-separated list: no name of ours holds a comma (run-records.ts jobName).
    execFileSync('scancel', ['--me', `--name=${jobNames(name).join(',')}`], { env, stdio: 'ignore', timeout: 5000 });
  } catch {
    // the next start finds the job by its name and cancels or resumes it
  }
}
