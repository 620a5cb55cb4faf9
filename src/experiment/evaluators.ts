/**
 * The bundled evaluators: examples/evaluators/<name>.mjs, each self-contained (it is copied
 * into the experiment directory as evaluate.mjs). Each file opens with a header that this
 * module reads:
 *
 *   // <one-line description>
 *   // cost: <what one evaluation costs: runs, LLM calls>
 *   // metric: <name> <lower|higher>        (optional: init's default --metric/--direction)
 *   // uses-llm: yes                        (optional: the evaluation calls a model)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Direction, ExperimentConfig } from '../config/types.js';
import { AutoresearchError } from '../core/errors.js';

export interface EvaluatorInfo {
  name: string;
  description: string;
  /** What one evaluation costs (runs of the command, LLM calls). */
  cost: string;
  /** The metric it prints that an experiment would usually optimise. */
  metric: { name: string; direction: Direction } | null;
  /** It calls an LLM CLI: its failures are classified like an agent's (eval_uses_llm). */
  usesLlm: boolean;
}

/** The file name an evaluator has once init copied it into the experiment directory. */
export const EVALUATOR_FILE = 'evaluate.mjs';

export function parseEvaluatorHeader(name: string, source: string): EvaluatorInfo {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/\s?/, '').trim());
  }
  const field = (key: string): string | undefined => header.find((l) => l.startsWith(`${key}:`))?.slice(key.length + 1).trim();
  const metric = /^(\S+)\s+(lower|higher)$/.exec(field('metric') ?? '');
  return {
    name,
    description: header[0] ?? '',
    cost: field('cost') ?? 'unknown',
    metric: metric === null ? null : { name: metric[1] as string, direction: metric[2] as Direction },
    usesLlm: field('uses-llm') === 'yes',
  };
}

export function listEvaluators(): EvaluatorInfo[] {
  const dir = evaluatorsDir();
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.mjs'))
    .sort()
    .map((file) => parseEvaluatorHeader(file.slice(0, -'.mjs'.length), fs.readFileSync(path.join(dir, file), 'utf8')));
}

/** The evaluator's file and header; the name must be one listed, never a path (`../../x` reads nothing). */
export function findEvaluator(name: string): { file: string; info: EvaluatorInfo } {
  const available = listEvaluators();
  const info = available.find((e) => e.name === name);
  if (info === undefined) {
    throw new AutoresearchError('BAD_INPUT', `--evaluator: expected one of ${available.map((e) => e.name).join(', ')}, found \`${name}\` (see \`autoresearch init --list-evaluators\`)`);
  }
  return { file: path.join(evaluatorsDir(), `${name}.mjs`), info };
}

/**
 * eval_uses_llm when the config does not say: true when evaluate_cmd runs the experiment's
 * evaluate.mjs and that file is one of our LLM judges (its header says `uses-llm: yes`).
 */
export function evaluationUsesLlm(config: Pick<ExperimentConfig, 'evalUsesLlm' | 'evaluateCmd' | 'dir'>): boolean {
  if (config.evalUsesLlm !== null) return config.evalUsesLlm;
  if (!config.evaluateCmd.includes(EVALUATOR_FILE)) return false;
  let source: string;
  try {
    source = fs.readFileSync(path.join(config.dir, EVALUATOR_FILE), 'utf8');
  } catch {
    return false;
  }
  return parseEvaluatorHeader(EVALUATOR_FILE, source.slice(0, 4096)).usesLlm;
}

/**
 * examples/evaluators in the package root. This module runs from src/experiment (vitest)
 * or dist/experiment (built), so walk up to the directory holding package.json.
 */
function evaluatorsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'examples', 'evaluators');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bug: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
