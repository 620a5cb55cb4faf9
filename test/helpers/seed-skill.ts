/**
 * The autoresearch-agent skill (the seed) whose Python scripts the interop tests run, never
 * copied into the project: $AUTORESEARCH_SEED_SKILL, else `shared/reference/autoresearch-agent`
 * in a directory above this checkout, else /work/shared/reference/autoresearch-agent (where this
 * workplace keeps it). When it is absent the tests that need it are skipped, loudly, CI
 * included: it is third-party reference material outside the repository, which a clean clone
 * elsewhere may not have, not a part `.ci/run` can install.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findSeedSkill(): string | null {
  const fromEnv = process.env.AUTORESEARCH_SEED_SKILL;
  if (fromEnv !== undefined && fromEnv !== '') return fs.existsSync(path.join(fromEnv, 'scripts', 'run_experiment.py')) ? fromEnv : null;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'shared', 'reference', 'autoresearch-agent');
    if (fs.existsSync(path.join(candidate, 'scripts', 'run_experiment.py'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const workplace = '/work/shared/reference/autoresearch-agent';
  return fs.existsSync(path.join(workplace, 'scripts', 'run_experiment.py')) ? workplace : null;
}

export const SEED_SKILL: string | null = findSeedSkill();

const MISSING =
  'the autoresearch-agent skill was not found (set AUTORESEARCH_SEED_SKILL, or put it at ../shared/reference/autoresearch-agent): its interop tests are SKIPPED';

if (SEED_SKILL === null) console.warn(`\n*** ${MISSING} ***\n`);

/** The skill's directory, or null (already reported) when absent: `if (seed === null) return;`. */
export function seedScripts(): string | null {
  return SEED_SKILL;
}

/** The path of one of the skill's scripts. */
export function seedScript(name: 'setup_experiment.py' | 'run_experiment.py' | 'log_results.py'): string {
  if (SEED_SKILL === null) throw new Error(MISSING);
  return path.join(SEED_SKILL, 'scripts', name);
}
