/**
 * state.json's schema, checked key by key so a hand-edited or damaged file is refused with
 * the key path, what was expected and what was found (never a crash deep in the loop on a
 * `"consecutiveCrashes": "2"`). Keys we do not know are left alone (a newer version's, or
 * another tool's); keys added by later versions of ours are optional here.
 */
import { STATE_VERSION } from './state.js';

/** The first mismatch: `key` is a dotted path (`lastKept.metric`, `exhausted.primary.until`). */
export interface SchemaMismatch {
  key: string;
  expected: string;
  found: unknown;
}

type Check = (value: unknown, key: string) => SchemaMismatch | null;

const string: Check = (v, key) => (typeof v === 'string' ? null : { key, expected: 'a string', found: v });
const boolean: Check = (v, key) => (typeof v === 'boolean' ? null : { key, expected: 'true or false', found: v });
const count: Check = (v, key) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : { key, expected: 'a non-negative integer', found: v });
const finite: Check = (v, key) => (typeof v === 'number' && Number.isFinite(v) ? null : { key, expected: 'a finite number', found: v });
const orNull =
  (check: Check): Check =>
  (v, key) =>
    v === null ? null : orNullAt(check(v, key), key);
const optional =
  (check: Check): Check =>
  (v, key) =>
    v === undefined ? null : check(v, key);
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v, key) =>
    values.includes(v) ? null : { key, expected: `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, found: v };
const arrayOf =
  (check: Check): Check =>
  (v, key) => {
    if (!Array.isArray(v)) return { key, expected: 'a list', found: v };
    for (const [i, item] of v.entries()) {
      const bad = check(item, `${key}[${i}]`);
      if (bad !== null) return bad;
    }
    return null;
  };
const object =
  (fields: Record<string, Check>): Check =>
  (v, key) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { key, expected: 'an object', found: v };
    for (const [name, check] of Object.entries(fields)) {
      const bad = check((v as Record<string, unknown>)[name], key === '' ? name : `${key}.${name}`);
      if (bad !== null) return bad;
    }
    return null;
  };
const recordOf =
  (check: Check): Check =>
  (v, key) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { key, expected: 'an object', found: v };
    for (const [name, item] of Object.entries(v)) {
      const bad = check(item, `${key}.${name}`);
      if (bad !== null) return bad;
    }
    return null;
  };
const union =
  (discriminant: string, variants: Record<string, Check>): Check =>
  (v, key) => {
    const tag = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[discriminant] : undefined;
    const check = typeof tag === 'string' ? variants[tag] : undefined;
    if (check === undefined) return object({ [discriminant]: oneOf(...Object.keys(variants)) })(v, key);
    return check(v, key);
  };

/** A mismatch of the nullable value itself (not of a key inside it) could also have been null. */
function orNullAt(bad: SchemaMismatch | null, key: string): SchemaMismatch | null {
  return bad === null || bad.key !== key ? bad : { ...bad, expected: `${bad.expected} or null` };
}

const child = orNull(object({ pid: count, pgid: count, startTime: optional(orNull(finite)), bootId: optional(orNull(string)) }));
const intentBase = { iteration: count, base: string, child, decided: optional(oneOf(true)), startedAt: optional(string) };

const measuredCommit = object({ commit: string, iteration: orNull(count), metric: finite, samples: arrayOf(finite) });

const STATE: Check = object({
  version: (v, key) => oneOf(STATE_VERSION)(v, key), // lazy: state.ts imports this module
  id: string,
  projectRoot: string,
  worktree: string,
  branch: string,
  lastKept: object({ commit: string, metric: optional(orNull(finite)), iteration: optional(orNull(count)), rebasedAfter: optional(count), samples: optional(arrayOf(finite)) }),
  consecutiveCrashes: count,
  consecutiveNoChange: optional(count),
  setupDone: optional(boolean),
  setupOutput: optional(arrayOf(string)),
  halt: optional(orNull(object({ state: oneOf('tripped', 'paused', 'blocked'), reason: string, at: string }))),
  exhausted: optional(recordOf(object({ until: string, reason: string, signature: orNull(string), attempt: count }))),
  intent: optional(
    orNull(
      union('phase', {
        agent: object({ phase: oneOf('agent'), ...intentBase }),
        eval: object({ phase: oneOf('eval'), ...intentBase, candidate: string, log: optional(string), job: optional(object({ name: string, id: orNull(string), commit: string })), queued: optional(oneOf(true)), agent: optional(orNull(string)), commands: optional(object({ evaluate: string, check: orNull(string) })) }),
      }),
    ),
  ),
  draft: optional(orNull(object({ phase: oneOf('agent'), iteration: count, base: string, child, startedAt: optional(string), ready: optional(string) }))),
  digest: optional(object({ iterations: count, experiments: optional(count), keeps: count, discards: count, crashes: count, best: orNull(finite), baseline: orNull(finite), lastTimestamp: orNull(string), ledgerBytes: finite })),
  noise: optional(object({ sumSquares: finite, df: count })),
  baseline: optional(measuredCommit),
  revalidation: optional(object({ validated: measuredCommit, window: arrayOf(measuredCommit), unmeasuredAt: optional(count) })),
  firstStartedAt: optional(string),
  updatedAt: optional(string),
});

/** The first key of `value` that does not match state.json's schema, or null. */
export function checkStateSchema(value: unknown): SchemaMismatch | null {
  return STATE(value, '');
}

/** How a found value is shown in an error: its JSON (shortened) and its type. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  const json = JSON.stringify(value) ?? String(value);
  const type = value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
  return `${json.length > 80 ? `${json.slice(0, 80)}…` : json} (${type})`;
}
