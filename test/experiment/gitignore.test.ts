/** The .gitignore files we maintain: only missing patterns are added, the user's lines stay. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureExperimentGitignore, ensureIgnored } from '../../src/experiment/gitignore.js';
import { DAEMON_OWNED, experimentPaths } from '../../src/experiment/paths.js';
import { makeTempDir } from '../helpers/git-repo.js';

describe('ensureIgnored', () => {
  it('creates the file with a header, then adds only what is missing, keeping the user lines', async () => {
    const file = path.join(await makeTempDir(), '.gitignore');
    expect(await ensureIgnored(file, ['a.log', 'b/'], '# ours')).toBe(true);
    expect(await fs.readFile(file, 'utf8')).toBe('# ours\na.log\nb/\n');
    await fs.appendFile(file, 'mine.txt'); // a user line without a final newline
    expect(await ensureIgnored(file, ['a.log', 'b/', 'c.tmp'], '# ours')).toBe(true);
    expect(await fs.readFile(file, 'utf8')).toBe('# ours\na.log\nb/\nmine.txt\nc.tmp\n');
    expect(await ensureIgnored(file, ['a.log', 'c.tmp'], '# ours')).toBe(false);
  });

  it("brings an experiment's .gitignore written by an older version up to date", async () => {
    const paths = experimentPaths(await makeTempDir());
    await fs.writeFile(paths.gitignore, 'results.tsv\nstate.json\nruns/\n');
    expect(await ensureExperimentGitignore(paths)).toBe(true);
    const lines = (await fs.readFile(paths.gitignore, 'utf8')).trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['results.tsv', 'state.json', 'runs/']);
    expect(lines).toEqual(expect.arrayContaining([...DAEMON_OWNED]));
    expect(new Set(lines).size).toBe(lines.length); // nothing written twice
  });
});
