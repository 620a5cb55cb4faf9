/**
 * `slurm_args`: the extra sbatch arguments of an experiment (`--partition=gpu --gres=gpu:1`),
 * split like a shell would (keys.ts splitArgs), and refused when they take over what the
 * SLURM executor must own for its guarantees (the job's name, log, exit file, environment,
 * time limit, requeue policy): each refusal says why.
 *
 * Options are read as sbatch reads them (getopt_long): `--name=value` or `--name value`, a
 * unique prefix of a long name (`--out=x` is `--output`), `-o x` or `-ox`, and short flags
 * grouped (`-vo x`). A word that is no option and no option's value would be read by sbatch
 * as the job script: refused too.
 */

/** Why the executor owns an option (the user may not set it in slurm_args). */
const OWNED: Record<string, string> = {
  output: 'the job writes to the iteration\'s eval.log, which autoresearch reads while the job runs',
  error: 'stderr goes to the iteration\'s eval.log with stdout, where autoresearch reads it',
  'job-name': 'the job name is autoresearch\'s unique token: a restart after a crash finds the job by it',
  comment: 'the comment carries autoresearch\'s token that identifies the job (job ids are reused after a controller crash)',
  chdir: 'the job runs in the experiment\'s worktree',
  export: 'the job gets this environment plus the AUTORESEARCH_* variables of the evaluation (export variables before starting autoresearch, or set them in evaluate_cmd)',
  wrap: 'autoresearch submits its own job script (it runs evaluate_cmd and writes the exit code to a file)',
  parsable: 'autoresearch passes it itself to read the job id',
  requeue: 'a preempted or failed job is submitted again by autoresearch (bounded, and recorded in infrastructure.jsonl), never requeued by SLURM under the same id',
  'no-requeue': 'autoresearch passes it itself: a preempted or failed job is submitted again by autoresearch, not requeued by SLURM',
  'open-mode': 'autoresearch appends to eval.log (a resubmitted job must not truncate what was read)',
  time: 'the job\'s time limit is derived from eval_timeout (raise eval_timeout to give the evaluation more time)',
  wait: 'sbatch would block until the job ends; autoresearch follows the job itself',
  array: 'one evaluation is one job; an array would run evaluate_cmd several times',
  hold: 'a held job never starts by itself: the evaluation would wait in the queue until someone releases it',
  help: 'sbatch would print its help and submit nothing',
  usage: 'sbatch would print its usage and submit nothing',
  version: 'sbatch would print its version and submit nothing',
};

/**
 * sbatch's long options (Slurm 22.05 `sbatch --help`, plus `--open-mode` and `--test-only`
 * from its manual) and whether each takes a value in the next word. Only used to resolve
 * abbreviations and to tell an option's value from a stray word; a name missing here (a newer
 * release) is passed on for sbatch to judge. `flag`: no value, or an optional one given with `=`.
 */
const LONG_OPTIONS: Record<string, 'value' | 'flag'> = Object.fromEntries([
  ...'account array bb bbf begin chdir cluster-constraint clusters comment constraint container core-spec cores-per-socket cpu-freq cpus-per-gpu cpus-per-task deadline delay-boot dependency distribution error exclude export export-file extra-node-info gid gpu-bind gpu-freq gpus gpus-per-node gpus-per-socket gpus-per-task gres gres-flags input job-name licenses mail-type mail-user mcs-label mem mem-per-cpu mem-per-gpu mincpus nice nodefile nodelist nodes ntasks ntasks-per-core ntasks-per-node ntasks-per-socket open-mode output partition power priority profile qos reservation signal sockets-per-node switches thread-spec threads-per-core time time-min tmp uid wckey wrap'
    .split(' ')
    .map((name) => [name, 'value'] as const),
  ...'contiguous exclusive get-user-env help hold ignore-pbs no-kill no-requeue overcommit oversubscribe parsable propagate quiet reboot requeue spread-job test-only usage use-min-nodes verbose version wait'
    .split(' ')
    .map((name) => [name, 'flag'] as const),
]);

/** sbatch's short options: the long option each stands for. */
const SHORT_OPTIONS: Record<string, string> = {
  A: 'account', a: 'array', B: 'extra-node-info', b: 'begin', C: 'constraint', c: 'cpus-per-task', D: 'chdir', d: 'dependency',
  e: 'error', F: 'nodefile', G: 'gpus', H: 'hold', h: 'help', i: 'input', J: 'job-name', k: 'no-kill', L: 'licenses', M: 'clusters',
  m: 'distribution', N: 'nodes', n: 'ntasks', O: 'overcommit', o: 'output', p: 'partition', Q: 'quiet', q: 'qos', S: 'core-spec',
  s: 'oversubscribe', t: 'time', u: 'usage', V: 'version', v: 'verbose', W: 'wait', w: 'nodelist', x: 'exclude',
};

export type SlurmArgsCheck = { ok: true; args: string[] } | { ok: false; found: string; hint: string };

/** The words of slurm_args (already split) → accepted, or what was refused and why. */
export function checkSlurmArgs(words: readonly string[]): SlurmArgsCheck {
  const owned: Array<{ word: string; name: string }> = [];
  let expectValue = false;
  for (const word of words) {
    if (expectValue) {
      expectValue = false;
      continue; // `--partition gpu`: gpu is the value, whatever it looks like
    }
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      const given = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const name = longName(given);
      if (OWNED[name] !== undefined) owned.push({ word, name });
      expectValue = eq < 0 && LONG_OPTIONS[name] === 'value';
    } else if (word.startsWith('-') && word.length > 1 && word !== '--') {
      // Grouped short options: flags until one that takes a value (the rest of the word, or the next word).
      for (let i = 1; i < word.length; i++) {
        const name = SHORT_OPTIONS[word.charAt(i)];
        if (name === undefined) break; // unknown to us: sbatch judges it
        if (OWNED[name] !== undefined) owned.push({ word, name });
        if (LONG_OPTIONS[name] === 'value') {
          expectValue = i === word.length - 1;
          break;
        }
      }
    } else {
      return {
        ok: false,
        found: `\`${word}\`, which is not an option (nor the value of one)`,
        hint: 'sbatch would read it as the job script; write options like `--partition=gpu` (quote a value with spaces)',
      };
    }
  }
  if (owned.length === 0) return { ok: true, args: [...words] };
  const unique = owned.filter((o, i) => owned.findIndex((p) => p.name === o.name) === i);
  return {
    ok: false,
    found: unique.map((o) => `\`${o.word}\``).join(', '),
    hint: `autoresearch sets ${unique.length === 1 ? 'this option' : 'these options'} itself: ${unique.map((o) => `--${o.name}: ${OWNED[o.name]}`).join('; ')}`,
  };
}

/** A long option's full name: itself, or the one option it is an unambiguous prefix of (getopt_long). */
function longName(given: string): string {
  if (LONG_OPTIONS[given] !== undefined) return given;
  const matches = Object.keys(LONG_OPTIONS).filter((name) => name.startsWith(given));
  return matches.length === 1 ? (matches[0] as string) : given;
}
