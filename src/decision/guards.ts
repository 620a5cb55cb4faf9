// Placeholder until helper "config" lands src/decision/guards.ts.
import type { Guard } from './types.js';
export async function readGuardValues(_log: string, guards: readonly Guard[]): Promise<Record<string, number | null>> {
  return Object.fromEntries(guards.map((g) => [g.metric, null]));
}
export function guardViolation(_guards: readonly Guard[], _values: Record<string, number | null>): string | null {
  return null;
}
