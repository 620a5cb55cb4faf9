/**
 * `executor` and `slurm_args` (issue 12): read, defaulted, and refused with file:line, key,
 * expected and found when slurm_args takes over an option the SLURM executor owns.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/parse-config.js';
import { checkSlurmArgs } from '../../src/config/slurm-args.js';
import { ConfigError, type ConfigIssue } from '../../src/core/errors.js';

const id = { domain: 'engineering', name: 'train', key: 'engineering/train' };
const dir = '/proj/.autoresearch/engineering/train';
const ctx = { file: `${dir}/config.cfg`, dir, id, scope: 'project' as const };
const MINIMAL = 'target: a.py\nevaluate_cmd: ./bench\nmetric: score\n';

function onlyIssue(text: string): ConfigIssue {
  try {
    parseConfigText(text, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toHaveLength(1);
    return issues[0] as ConfigIssue;
  }
  throw new Error('expected a ConfigError, but the config parsed');
}

describe('executor and slurm_args', () => {
  it('default to local and no extra arguments', () => {
    expect(parseConfigText(MINIMAL, ctx)).toMatchObject({ executor: 'local', slurmArgs: [] });
  });

  it('reads executor: slurm and splits slurm_args like a shell, one argument per word', () => {
    const config = parseConfigText(`${MINIMAL}executor: slurm\nslurm_args: --partition=gpu --gres=gpu:1 --qos=long --constraint="a100 | h100" -A 'my lab'\n`, ctx);
    expect(config.executor).toBe('slurm');
    expect(config.slurmArgs).toEqual(['--partition=gpu', '--gres=gpu:1', '--qos=long', '--constraint=a100 | h100', '-A', 'my lab']);
  });

  it('accepts an empty slurm_args line as none', () => {
    expect(parseConfigText(`${MINIMAL}executor: slurm\nslurm_args:\n`, ctx).slurmArgs).toEqual([]);
  });

  it('refuses an unknown executor with the line, and suggests slurm for a near word', () => {
    expect(onlyIssue(`${MINIMAL}executor: kubernetes\n`)).toMatchObject({ line: 4, key: 'executor', expected: '`local` or `slurm`', found: '`kubernetes`' });
    expect(onlyIssue(`${MINIMAL}executor: SLURM\n`)).toMatchObject({ line: 4, key: 'executor', hint: 'did you mean `slurm`?' });
  });

  it('refuses an unclosed quote in slurm_args', () => {
    expect(onlyIssue(`${MINIMAL}slurm_args: --comment-free "oops\n`)).toMatchObject({ line: 4, key: 'slurm_args', hint: 'the double quote is never closed' });
  });

  it.each([
    ['-o out.log', '`-o`', 'eval.log'],
    ['--output=%j.out', '`--output=%j.out`', 'eval.log'],
    ['--out=x', '`--out=x`', 'eval.log'], // getopt's unique prefix of --output
    ['-e err.log', '`-e`', 'eval.log'],
    ['--error x', '`--error`', 'eval.log'],
    ['-J mine', '`-J`', 'restart'],
    ['--job-name=mine', '`--job-name=mine`', 'restart'],
    ['--comment=x', '`--comment=x`', 'token'],
    ['-D /scratch', '`-D`', 'worktree'],
    ['--chdir=/scratch', '`--chdir=/scratch`', 'worktree'],
    ['--export=NONE', '`--export=NONE`', 'AUTORESEARCH_'],
    ['--wrap="python train.py"', '`--wrap=python train.py`', 'job script'],
    ['--parsable', '`--parsable`', 'job id'],
    ['--requeue', '`--requeue`', 'infrastructure.jsonl'],
    ['--open-mode=truncate', '`--open-mode=truncate`', 'appends'],
    ['-t 60', '`-t`', 'eval_timeout'],
    ['-t60', '`-t60`', 'eval_timeout'],
    ['--time=1:00:00', '`--time=1:00:00`', 'eval_timeout'],
    ['-vt 60', '`-vt`', 'eval_timeout'], // grouped short options
    ['--wait', '`--wait`', 'block'],
    ['--array=1-4', '`--array=1-4`', 'array'],
  ])('refuses `%s` in slurm_args, saying why autoresearch owns it', (args, found, why) => {
    const issue = onlyIssue(`${MINIMAL}executor: slurm\nslurm_args: --partition=gpu ${args}\n`);
    expect(issue).toMatchObject({ file: ctx.file, line: 5, key: 'slurm_args', found });
    expect(issue.expected).toContain('sbatch options');
    expect(issue.hint).toContain(why);
  });

  it('names every owned option at once, and the message reads file:line: key', () => {
    const text = `${MINIMAL}executor: slurm\nslurm_args: -o x.log --time=10 --gres=gpu:1\n`;
    expect(onlyIssue(text)).toMatchObject({ found: '`-o`, `--time=10`' });
    expect(() => parseConfigText(text, ctx)).toThrow(`${ctx.file}:5: slurm_args: expected sbatch options`);
  });

  it('leaves options that only look like owned ones alone', () => {
    // --time-min is its own option; -p takes a value that happens to look like an option.
    expect(checkSlurmArgs(['--time-min=30', '-p', '-o', '--mem', '8G', '-c4', '--exclusive', '--nice=10'])).toEqual({
      ok: true,
      args: ['--time-min=30', '-p', '-o', '--mem', '8G', '-c4', '--exclusive', '--nice=10'],
    });
  });

  it('refuses a stray word sbatch would read as its job script', () => {
    expect(onlyIssue(`${MINIMAL}slurm_args: gpu --qos=long\n`)).toMatchObject({ line: 4, key: 'slurm_args', found: '`gpu`, which is not an option (nor the value of one)' });
    expect(checkSlurmArgs(['--exclusive', 'gpu'])).toMatchObject({ ok: false });
    expect(checkSlurmArgs(['--partition', 'gpu', '--qos', 'long'])).toMatchObject({ ok: true });
  });
});
