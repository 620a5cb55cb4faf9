/** One runner per experiment even when several start at the same instant. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/git-repo.js';

const LOCK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/experiment/run-lock.js');
const CONTENDER = `
const { acquireLock } = await import(process.argv[1]);
try {
  const lock = await acquireLock(process.argv[2], { what: 'x', command: 'race' });
  console.log('GOT');
  setTimeout(() => lock.release(), 300); // hold it while the others try
} catch (error) {
  console.log(error.code === 'LOCKED' ? 'LOCKED' : String(error));
}`;

describe('run lock under contention', () => {
  it('gives the lock to exactly one of three processes starting together, ten times in a row', async () => {
    const dir = await makeTempDir('ar-lock-');
    for (let round = 0; round < 10; round++) {
      const file = path.join(dir, `run-${round}.lock`);
      const outcomes = await Promise.all(
        [0, 1, 2].map(async () => String((await execa('node', ['--input-type=module', '-e', CONTENDER, LOCK, file])).stdout).trim()),
      );
      expect(outcomes.sort()).toEqual(['GOT', 'LOCKED', 'LOCKED']);
    }
  });
});
