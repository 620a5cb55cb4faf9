/** One runner per experiment even when several start at the same instant. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/git-repo.js';

const LOCK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/experiment/run-lock.js');
// A winner holds the lock until the test says every contender has tried (the `.done` file),
// so a contender that starts late on a loaded machine still meets a held lock.
const CONTENDER = `
import fs from 'node:fs';
const { acquireLock } = await import(process.argv[1]);
try {
  const lock = await acquireLock(process.argv[2], { what: 'x', command: 'race' });
  console.log('GOT');
  const timer = setInterval(async () => {
    if (!fs.existsSync(process.argv[2] + '.done')) return;
    clearInterval(timer);
    await lock.release();
  }, 10);
} catch (error) {
  console.log(error.code === 'LOCKED' ? 'LOCKED' : String(error));
}`;

/** The contender's first line of output, as soon as it is printed. */
function firstLine(child: ReturnType<typeof execa>): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    void child.then(
      () => resolve(out.trim()),
      () => resolve(out.trim()),
    );
  });
}

describe('run lock under contention', () => {
  it('gives the lock to exactly one of three processes starting together, ten times in a row', async () => {
    const dir = await makeTempDir('ar-lock-');
    for (let round = 0; round < 10; round++) {
      const file = path.join(dir, `run-${round}.lock`);
      const children = [0, 1, 2].map(() => execa('node', ['--input-type=module', '-e', CONTENDER, LOCK, file]));
      const outcomes = await Promise.all(children.map(firstLine));
      fs.writeFileSync(`${file}.done`, '');
      await Promise.all(children);
      expect(outcomes.sort()).toEqual(['GOT', 'LOCKED', 'LOCKED']);
    }
  });
});
