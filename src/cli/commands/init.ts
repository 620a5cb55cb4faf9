/** `autoresearch init <domain>/<name> ...` and `init --list-evaluators`. */
import { parseExperimentId } from '../../config/experiment-id.js';
import type { Direction, Scope } from '../../config/types.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { initExperiment, listEvaluators } from '../../experiment/init-experiment.js';

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
}

export async function initCommand(opts: InitOptions, out: (text: string) => void): Promise<number> {
  if (opts.listEvaluators) {
    for (const e of await listEvaluators()) out(`${e.name.padEnd(20)} ${e.description}\n`);
    return EXIT.ok;
  }
  if (opts.id === undefined) throw new AutoresearchError('BAD_INPUT', 'init: expected an experiment id `<domain>/<name>`, found none');
  const missing = (['target', 'metric'] as const).filter((k) => opts[k] === undefined);
  if (opts.eval === undefined && opts.evaluator === undefined) missing.push('eval' as never);
  if (missing.length > 0) {
    throw new AutoresearchError('BAD_INPUT', `init: expected ${missing.map((m) => `--${m}`).join(', ')}, found none (e.g. --target train.py --eval "uv run train.py" --metric val_bpb)`);
  }
  const direction = parseChoice<Direction>('--direction', opts.direction, ['lower', 'higher']);
  const scope = parseChoice<Scope>('--scope', opts.scope, ['project', 'user']);
  const id = parseExperimentId(opts.id);
  const { dir, files } = await initExperiment({
    projectRoot: opts.projectRoot,
    id,
    scope: scope ?? 'project',
    target: opts.target as string,
    metric: opts.metric as string,
    ...(opts.eval === undefined ? {} : { evaluateCmd: opts.eval }),
    ...(direction === undefined ? {} : { direction }),
    ...(opts.timeBudget === undefined ? {} : { timeBudget: opts.timeBudget }),
    ...(opts.agent === undefined ? {} : { agent: opts.agent }),
    ...(opts.evaluator === undefined ? {} : { evaluator: opts.evaluator }),
  });
  out(`created experiment ${id.key} in ${dir}\n`);
  for (const f of files) out(`  ${f}\n`);
  out(`next: edit program.md, set \`agent:\` in config.cfg, then \`autoresearch run ${id.key}\`\n`);
  return EXIT.ok;
}

function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new AutoresearchError('BAD_INPUT', `${flag}: expected ${choices.join(' or ')}, found \`${value}\``);
}
