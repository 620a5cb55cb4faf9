/**
 * Experiment ids: `<domain>/<name>` (SPEC §2). The id becomes a directory path, a branch
 * name (`autoresearch/<domain>/<name>`) and a ref prefix, so anything that could escape the
 * experiment directory, that git refuses in a ref (git-check-ref-format: a component that
 * starts with `.` or ends with `.` or `.lock`, `..`, `@{`, control characters) or that a file
 * system refuses (ext4: 255 bytes per component) is refused here, once, with the rule broken.
 */
import { AutoresearchError } from '../core/errors.js';
import type { ExperimentId } from './types.js';

const DOMAIN = /^[a-z0-9_-]+$/;
const NAME = /^[A-Za-z0-9._-]+$/;
/** Per component: far below ext4's 255 bytes, leaving room for suffixes (`.lock`, temp files). */
export const MAX_ID_COMPONENT = 100;

export const EXPERIMENT_ID_EXPECTED =
  `\`<domain>/<name>\` (domain [a-z0-9_-]+, name [A-Za-z0-9._-]+, each 1-${MAX_ID_COMPONENT} characters, ` +
  'a name neither starting nor ending with `.`, no `..`, not ending with `.lock`)';

/** Why `text` is not a valid component, or null when it is one. */
function componentProblem(text: string, what: 'domain' | 'name'): string | null {
  if (text === '') return `the ${what} is empty`;
  if (text.length > MAX_ID_COMPONENT) return `the ${what} has ${text.length} characters (at most ${MAX_ID_COMPONENT})`;
  const allowed = what === 'domain' ? DOMAIN : NAME;
  if (!allowed.test(text)) {
    const bad = [...text].find((c) => !allowed.test(c)) ?? '';
    const shown = /[\x00-\x1f\x7f]/.test(bad) ? `control character U+${bad.codePointAt(0)?.toString(16).padStart(4, '0').toUpperCase()}` : `\`${bad}\``;
    return `the ${what} contains ${shown}`;
  }
  // git's ref rules (the name is a component of a branch name); `..` is refused even where git would allow it.
  if (text.startsWith('.')) return `the ${what} starts with \`.\` (git refuses it in a branch name)`;
  if (text.endsWith('.')) return `the ${what} ends with \`.\` (git refuses it in a branch name)`;
  if (text.includes('..')) return `the ${what} contains \`..\``;
  if (text.endsWith('.lock')) return `the ${what} ends with \`.lock\` (git refuses it in a branch name)`;
  return null;
}

export function isValidDomain(text: string): boolean {
  return componentProblem(text, 'domain') === null;
}

export function isValidName(text: string): boolean {
  return componentProblem(text, 'name') === null;
}

/** Why `text` is not a valid id, or null. */
function idProblem(text: string): string | null {
  const parts = text.split('/');
  if (parts.length !== 2) return `expected exactly one \`/\`, found ${parts.length - 1}`;
  const [domain, name] = parts as [string, string];
  return componentProblem(domain, 'domain') ?? componentProblem(name, 'name');
}

/** The id, or null when `text` is not a valid id (for scanning directories). */
export function tryParseExperimentId(text: string): ExperimentId | null {
  if (idProblem(text) !== null) return null;
  const [domain, name] = text.split('/') as [string, string];
  return { domain, name, key: `${domain}/${name}` };
}

export function parseExperimentId(text: string): ExperimentId {
  const problem = idProblem(text);
  if (problem !== null) throw new AutoresearchError('BAD_INPUT', `experiment id: expected ${EXPERIMENT_ID_EXPECTED}, found \`${printable(text)}\`: ${problem}`);
  return tryParseExperimentId(text) as ExperimentId;
}

/** The id as the user can read it: control characters escaped, a very long one shortened. */
function printable(text: string): string {
  const escaped = text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 140 ? `${escaped.slice(0, 120)}…(${text.length} characters)` : escaped;
}
