/** A seeded N(0, 1) source for deterministic Monte Carlo tests: mulberry32 + Box-Muller. */
// The same mulberry32 the fault tests place kills with.
import { seededRandom as mulberry32 } from '../fault/helpers/rng.js';

export function seededNormal(seed: number): () => number {
  const uniform = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u1 = 1 - uniform(); // (0, 1]: log(0) never happens
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}
