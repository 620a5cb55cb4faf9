/** `autoresearch init <domain>/<name> ...` and `init --list-evaluators`. */
import { parseExperimentId } from '../../config/experiment-id.js';
import type { Direction, Scope } from '../../config/types.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { runInitBaseline } from '../../experiment/init-baseline.js';
import { initExperiment, listEvaluators } from '../../experiment/init-experiment.js';
import { installStopSignals } from '../stop-signals.js';

export interface InitOptions {
  projectRoot: string;
  id: string | undefined;
  listEvaluators: boolean;
  target?: string;
  eval?: string;
  metric?: string;
  direction?: string;
  timeBudget?: string;
  agent?: string;
  evaluator?: string;
  scope?: string;
  /** Run the evaluation once to show the baseline metric (default true; `--no-baseline`). */
  baseline?: boolean;
}

export async function initCommand(opts: InitOptions, out: (text: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (opts.listEvaluators) {
    const list = listEvaluators();
    const width = Math.max(...list.map((e) => e.name.length)) + 2;
    for (const e of list) {
      out(`${e.name.padEnd(width)}${e.description}\n`);
      out(`${''.padEnd(width)}cost: ${e.cost}${e.metric === null ? '' : `; metric: ${e.metric.name} (${e.metric.direction} is better)`}\n`);
    }
    return EXIT.ok;
  }
  if (opts.id === undefined) throw new AutoresearchError('BAD_INPUT', 'init: expected an experiment id `<domain>/<name>`, found none');
  const missing: string[] = [];
  if (opts.target === undefined) missing.push('--target');
  if (opts.eval === undefined && opts.evaluator === undefined) missing.push('--eval (or --evaluator)');
  if (opts.metric === undefined && opts.evaluator === undefined) missing.push('--metric');
  if (missing.length > 0) {
    throw new AutoresearchError('BAD_INPUT', `init: expected ${missing.join(', ')}, found none (e.g. --target train.py --eval "uv run train.py" --metric val_bpb)`);
  }
  const direction = parseChoice<Direction>('--direction', opts.direction, ['lower', 'higher']);
  const scope = parseChoice<Scope>('--scope', opts.scope, ['project', 'user']);
  const id = parseExperimentId(opts.id);
  const { dir, files, config, branchBackup } = await initExperiment({
    projectRoot: opts.projectRoot,
    id,
    scope: scope ?? 'project',
    target: opts.target as string,
    env,
    ...(opts.metric === undefined ? {} : { metric: opts.metric }),
    ...(opts.eval === undefined ? {} : { evaluateCmd: opts.eval }),
    ...(direction === undefined ? {} : { direction }),
    ...(opts.timeBudget === undefined ? {} : { timeBudget: opts.timeBudget }),
    ...(opts.agent === undefined ? {} : { agent: opts.agent }),
    ...(opts.evaluator === undefined ? {} : { evaluator: opts.evaluator }),
  });
  out(`created experiment ${id.key} in ${dir}\n`);
  for (const f of files) out(`  ${f}\n`);
  if (branchBackup !== null) out(`note: ${branchBackup.message}\n`);

  if (opts.baseline !== false) {
    out(`running the evaluation once for the baseline (in a temporary worktree of HEAD; limit ${Math.round(config.evalTimeoutMs / 1000)}s; skip with --no-baseline): ${config.evaluateCmd}\n`);
    const abort = new AbortController();
    const signals = installStopSignals({ onFirst: () => abort.abort(), onSecond: () => undefined });
    let result;
    try {
      result = await runInitBaseline(config, opts.projectRoot, { env, signal: abort.signal });
    } finally {
      signals.dispose();
    }
    if (result.kind === 'aborted') {
      out('baseline: interrupted; the experiment is written\n');
      return EXIT.interrupted;
    }
    if (result.kind === 'failed') {
      const tail = result.logTail.trimEnd();
      throw new AutoresearchError(
        'BAD_INPUT',
        [
          `baseline: ${result.message}; the experiment is written, but its evaluation does not work yet`,
          ...(tail === '' ? ['(the evaluation printed nothing)'] : ['the end of its output:', ...tail.split('\n').map((l) => `  | ${l}`)]),
          `hint: ${result.hint}`,
        ].join('\n'),
      );
    }
    out(`baseline ${config.metric}: ${result.value} (${(result.durationMs / 1000).toFixed(1)}s)\n`);
  }
  out(`next: edit program.md, set \`agent:\` in config.cfg, then \`autoresearch run ${id.key}\`\n`);
  return EXIT.ok;
}

function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new AutoresearchError('BAD_INPUT', `${flag}: expected ${choices.join(' or ')}, found \`${value}\``);
}
