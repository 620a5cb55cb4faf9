/**
 * The keep rule (SPEC §5), pure: keep iff strictly better than the best kept metric by
 * more than `minImprovement`. Ties are discarded.
 */
import type { Direction } from '../config/types.js';

export function isImprovement(value: number, best: number, direction: Direction, minImprovement: number): boolean {
  return direction === 'lower' ? value < best - minImprovement : value > best + minImprovement;
}
