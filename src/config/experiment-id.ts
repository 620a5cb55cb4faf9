/**
 * Experiment ids: `<domain>/<name>` (SPEC §2). The id becomes a directory path, a branch
 * name and a ref prefix, so anything that could escape the experiment directory or upset
 * git (`..`, spaces, extra slashes) is refused here, once.
 */
import { AutoresearchError } from '../core/errors.js';
import type { ExperimentId } from './types.js';

const DOMAIN = /^[a-z0-9_-]+$/;
const NAME = /^[A-Za-z0-9._-]+$/;

export const EXPERIMENT_ID_EXPECTED = '`<domain>/<name>` (domain [a-z0-9_-]+, name [A-Za-z0-9._-]+, no `..`)';

export function isValidDomain(text: string): boolean {
  return DOMAIN.test(text);
}

export function isValidName(text: string): boolean {
  // `.` alone is the directory itself; `..` anywhere is refused even where git would allow it.
  return NAME.test(text) && text !== '.' && !text.includes('..');
}

/** The id, or null when `text` is not a valid id (for scanning directories). */
export function tryParseExperimentId(text: string): ExperimentId | null {
  const parts = text.split('/');
  if (parts.length !== 2) return null;
  const [domain, name] = parts as [string, string];
  if (!isValidDomain(domain) || !isValidName(name)) return null;
  return { domain, name, key: `${domain}/${name}` };
}

export function parseExperimentId(text: string): ExperimentId {
  const id = tryParseExperimentId(text);
  if (id === null) throw new AutoresearchError('BAD_INPUT', `experiment id: expected ${EXPERIMENT_ID_EXPECTED}, found \`${text}\``);
  return id;
}
