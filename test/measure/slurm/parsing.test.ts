/**
 * What SLURM prints and how its states map to outcomes (pure: no cluster).
 */
import { describe, expect, it } from 'vitest';
import { parseExitFile, signalName } from '../../../src/measure/slurm/exit-file.js';
import { classifyState, isActiveState, judgeEndedJob } from '../../../src/measure/slurm/job-states.js';
import { parseSbatchId, parseSqueue, sbatchArgs, SlurmCommandError } from '../../../src/measure/slurm/slurm-cli.js';
import { submitEnvironment } from '../../../src/measure/slurm/slurm-executor.js';

describe('squeue and sbatch output', () => {
  it('parses rows, the name last; pending jobs have no node', () => {
    expect(parseSqueue('12|RUNNING|vm|None|ar-a_b-3-ff-eval\n13|PENDING||Resources|ar-a_b-3-ff-eval.2\n\nwarning line\n')).toEqual([
      { id: '12', state: 'RUNNING', node: 'vm', reason: 'None', name: 'ar-a_b-3-ff-eval' },
      { id: '13', state: 'PENDING', node: null, reason: 'Resources', name: 'ar-a_b-3-ff-eval.2' },
    ]);
  });

  it('reads the id of --parsable, with or without a cluster name', () => {
    expect(parseSbatchId('42\n', [])).toBe('42');
    expect(parseSbatchId('43;cluster\n', [])).toBe('43');
    expect(() => parseSbatchId('Submitted batch job x', ['-J', 'n'])).toThrow(SlurmCommandError);
    expect(() => parseSbatchId('', ['-J', 'n'])).toThrow(/printed no job id: expected a number, found ""/);
  });

  it('puts slurm_args after the time limit (they may override it) and before our name, log and directory (they may not)', () => {
    const args = sbatchArgs({ name: 'n', comment: 'autoresearch n abc', cwd: '/w', logFile: '/r/eval.log', timeMinutes: 7, slurmArgs: ['--time=30', '-J', 'theirs', '--gres=gpu:1'], script: '/r/eval.job.sh', env: {} });
    expect(args.indexOf('--time=7')).toBeLessThan(args.indexOf('--time=30'));
    expect(args.indexOf('-J')).toBeLessThan(args.indexOf('--job-name=n'));
    expect(args).toEqual(expect.arrayContaining(['--export=ALL', '--no-requeue', '--open-mode=append', '--output=/r/eval.log', '--chdir=/w', '--comment=autoresearch n abc']));
    expect(args.at(-1)).toBe('/r/eval.job.sh');
  });

  it('writes the log path as sbatch reads a pattern: `%` doubled; a backslash (which sbatch drops) refused with the path', () => {
    const spec = { name: 'n', comment: 'c', cwd: '/w%j', logFile: '/r/100%j/eval.log', timeMinutes: 1, slurmArgs: [], script: '/r/eval.job.sh', env: {} };
    expect(sbatchArgs(spec)).toEqual(expect.arrayContaining(['--output=/r/100%%j/eval.log', '--error=/r/100%%j/eval.log', '--chdir=/w%j']));
    expect(() => sbatchArgs({ ...spec, logFile: '/r/a\\b/eval.log' })).toThrow(/a\\\\b\/eval.log.*sbatch drops the backslash/);
  });

  it('passes no SLURM variable of an enclosing allocation nor a GPU assignment to sbatch, but SLURM_CONF', () => {
    expect(submitEnvironment({ PATH: '/bin', SLURM_JOB_ID: '3', SLURM_CONF: '/etc/slurm/x.conf', CUDA_VISIBLE_DEVICES: '0', HOME: '/h', GONE: undefined })).toEqual({ PATH: '/bin', SLURM_CONF: '/etc/slurm/x.conf', HOME: '/h' });
  });
});

describe('exit file', () => {
  it('parses each way a command ends', () => {
    expect(parseExitFile('exit 3\nelapsed_ms 1200\nnode vm\n')).toEqual({ kind: 'exit', code: 3, elapsedMs: 1200, node: 'vm' });
    expect(parseExitFile('signal 11\nelapsed_ms 5\nnode n1\n')).toEqual({ kind: 'signal', signal: 'SIGSEGV', elapsedMs: 5, node: 'n1' });
    expect(parseExitFile('timeout\n')).toEqual({ kind: 'timeout', elapsedMs: null, node: null });
    expect(parseExitFile('spawn-error cannot cd to /w on n1\n')).toMatchObject({ kind: 'spawn-error', message: 'cannot cd to /w on n1' });
    expect(parseExitFile('')).toBeNull();
    expect(parseExitFile('exi')).toBeNull();
  });

  it('names signals as the local executor does', () => {
    expect(signalName('9')).toBe('SIGKILL');
    expect(signalName('15')).toBe('SIGTERM');
    expect(signalName('KILL')).toBe('SIGKILL');
    expect(signalName('99')).toBe('signal 99');
  });
});

describe('job states', () => {
  it('classes queued, started and ended states; active is what a stop must leave none of', () => {
    expect(['PENDING', 'CONFIGURING', 'REQUEUED'].map(classifyState)).toEqual(['queued', 'queued', 'queued']);
    expect(['RUNNING', 'COMPLETING', 'SUSPENDED'].map(classifyState)).toEqual(['started', 'started', 'started']);
    expect(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL'].map(isActiveState)).toEqual(Array(8).fill(false));
  });

  const job = (state: string) => ({ id: '7', state, node: 'vm' });

  it('takes the exit file’s word, with the job’s end', () => {
    expect(judgeEndedJob(job('FAILED'), { kind: 'exit', code: 3, elapsedMs: 900, node: 'vm' }, 1500)).toEqual({ kind: 'outcome', outcome: { kind: 'exit', code: 3, durationMs: 900, job: job('FAILED') } });
    expect(judgeEndedJob(job('FAILED'), { kind: 'timeout', elapsedMs: null, node: null }, 1500)).toEqual({ kind: 'outcome', outcome: { kind: 'timeout', durationMs: 1500, job: job('FAILED') } });
  });

  it('without an exit file, SLURM’s state says it: OOM is a KILL, TIMEOUT a timeout, someone’s scancel the cluster’s', () => {
    expect(judgeEndedJob(job('OUT_OF_MEMORY'), null, 10)).toMatchObject({ outcome: { kind: 'signal', signal: 'SIGKILL', job: { state: 'OUT_OF_MEMORY' } } });
    expect(judgeEndedJob(job('TIMEOUT'), null, 10)).toMatchObject({ outcome: { kind: 'timeout', job: { state: 'TIMEOUT' } } });
    expect(judgeEndedJob(job('CANCELLED'), null, 10)).toEqual({ kind: 'infrastructure' });
    expect(judgeEndedJob(job('COMPLETED'), null, 10)).toEqual({ kind: 'unseen' });
    expect(judgeEndedJob(job('FAILED'), null, 10)).toEqual({ kind: 'unseen' });
  });

  it('preemption and node failure are the cluster’s, whatever the exit file says', () => {
    for (const state of ['PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL']) {
      expect(judgeEndedJob(job(state), { kind: 'signal', signal: 'SIGTERM', elapsedMs: 1, node: 'vm' }, 10)).toEqual({ kind: 'infrastructure' });
    }
  });
});
