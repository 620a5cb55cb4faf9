/**
 * Where each evaluation of an iteration writes its output, under runs/<n>/: the candidate's
 * first evaluation is `eval.log` (what every reader of one evaluation expects), its later ones
 * `eval.2.log`, `eval.3.log`…; the best's interleaved re-measurements `best.1.log`…; the
 * baseline's in a revalidation `baseline.1.log`…; check_cmd's output `check.log`.
 */
import path from 'node:path';

export type SampleRole = 'candidate' | 'best' | 'baseline';

export function sampleLog(runDir: string, role: SampleRole, index: number): string {
  if (role === 'candidate') return path.join(runDir, index === 1 ? 'eval.log' : `eval.${index}.log`);
  return path.join(runDir, `${role}.${index}.log`);
}

export function checkLog(runDir: string): string {
  return path.join(runDir, 'check.log');
}
