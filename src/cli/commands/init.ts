/** `autoresearch init <domain>/<name> ... [--allow P] [--location project|user] [--force]` and `init --list-evaluators`. */
import { parseExperimentId } from '../../config/experiment-id.js';
import type { Direction, Scope } from '../../config/types.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { runInitBaseline } from '../../experiment/init-baseline.js';
import { initExperiment, listEvaluators } from '../../experiment/init-experiment.js';
import { branchName } from '../../experiment/paths.js';
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
  /** project or user: where the experiment lives. */
  location?: string;
  /** Deprecated name of --location (it clashed with the config key `scope`). */
  scope?: string;
  /** The config key `scope`: paths the agent may change. */
  allow?: string;
  /** Replace an existing experiment of this id (its files and branch are set aside). */
  force?: boolean;
  /** Run the evaluation once to show the baseline metric (default true; `--no-baseline`). */
  baseline?: boolean;
}

export async function initCommand(
  opts: InitOptions,
  out: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  warn: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
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
  const location = parseLocation(opts, warn);
  const id = parseExperimentId(opts.id);
  const { dir, files, config, branchBackup, replaced } = await initExperiment({
    projectRoot: opts.projectRoot,
    id,
    location: location ?? 'project',
    target: opts.target as string,
    env,
    force: opts.force === true,
    ...(opts.allow === undefined ? {} : { allow: opts.allow }),
    ...(opts.metric === undefined ? {} : { metric: opts.metric }),
    ...(opts.eval === undefined ? {} : { evaluateCmd: opts.eval }),
    ...(direction === undefined ? {} : { direction }),
    ...(opts.timeBudget === undefined ? {} : { timeBudget: opts.timeBudget }),
    ...(opts.agent === undefined ? {} : { agent: opts.agent }),
    ...(opts.evaluator === undefined ? {} : { evaluator: opts.evaluator }),
  });
  if (replaced !== null) {
    if (replaced.archive !== null) out(`replaced experiment ${id.key}: its ${replaced.archived.join(', ')} are in ${replaced.archive}\n`);
    if (replaced.branchBackup !== null) out(`  its branch ${branchName(id.key)} (tip ${replaced.branchBackup.tip.slice(0, 7)}) is kept as ${replaced.branchBackup.ref} (see: git log ${replaced.branchBackup.ref})\n`);
    if (replaced.candidates !== null) out(`  its ${replaced.candidates.count} rejected candidate${replaced.candidates.count === 1 ? ' is' : 's are'} kept under ${replaced.candidates.prefix}<iteration>\n`);
    if (replaced.worktreeRemoved !== null) out(`  its worktree ${replaced.worktreeRemoved} was removed (the next run creates it again)\n`);
    if (replaced.branchReset) out(`  ${branchName(id.key)} now points at HEAD\n`);
  }
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

/**
 * `--location project|user`. `--scope` was its name, which clashed with the config key `scope`
 * (the paths the agent may change, now `--allow`): `--scope project|user` still works, with a
 * one-line notice; any other `--scope` value was meant for `--allow`.
 */
function parseLocation(opts: Pick<InitOptions, 'location' | 'scope'>, warn: (text: string) => void): Scope | undefined {
  if (opts.scope !== undefined) {
    if (opts.scope !== 'project' && opts.scope !== 'user') {
      throw new AutoresearchError(
        'BAD_INPUT',
        `--scope: expected project or user (the old name of --location), found \`${opts.scope}\`; for the paths the agent may change (config key \`scope\`) use --allow ${opts.scope}`,
      );
    }
    if (opts.location !== undefined && opts.location !== opts.scope) {
      throw new AutoresearchError('BAD_INPUT', `--location ${opts.location} and --scope ${opts.scope}: expected one location, found two; use --location only`);
    }
    warn(`note: init --scope ${opts.scope} is renamed --location ${opts.scope} (--scope will go away)\n`);
  }
  return parseChoice<Scope>('--location', opts.location ?? opts.scope, ['project', 'user']);
}

function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new AutoresearchError('BAD_INPUT', `${flag}: expected ${choices.join(' or ')}, found \`${value}\``);
}
