/**
 * Adversarial input: experiment ids that git, the file system or the experiment directory
 * would choke on. `init` refuses each one with the rule it breaks and writes nothing (no
 * directory, no branch, the checkout untouched); `run` and `status` refuse them the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ID_COMPONENT } from '../../src/config/experiment-id.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';

const BAD: Array<[string, RegExp]> = [
  ['eng/x.lock', /ends with `\.lock`/],
  ['eng/.hidden', /starts with `\.`/],
  ['eng/trailing.', /ends with `\.`/],
  ['eng/a..b', /contains `\.\.`/],
  ['eng/x@{1}', /contains `@`/],
  ['eng/tab\there', /control character U\+0009/],
  ['eng/bell\x07', /control character U\+0007/],
  [`eng/${'n'.repeat(300)}`, /the name has 300 characters \(at most 100\)/],
  [`${'d'.repeat(MAX_ID_COMPONENT + 1)}/x`, /the domain has 101 characters/],
  ['eng/x/y', /exactly one `\/`, found 2/],
];

describe('adversarial: experiment ids against git ref and file-name rules', () => {
  it.each(BAD)('init refuses %j with the rule it breaks, writing nothing', async (id, rule) => {
    const root = await makeRepo({ 'a.txt': '1\n' });
    const refsBefore = await git(root, 'for-each-ref');
    const r = await runCli(['--path', root, 'init', id, '--target', 'a.txt', '--eval', 'echo score: 1', '--metric', 'score', '--no-baseline'], { env: cliEnv() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^autoresearch: experiment id: expected `<domain>\/<name>`/);
    expect(r.stderr).toMatch(rule);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(fs.existsSync(path.join(root, '.autoresearch'))).toBe(false);
    expect(await git(root, 'for-each-ref')).toBe(refsBefore);
    expect(await git(root, 'status', '--porcelain')).toBe('');
  });

  it.each(BAD.slice(0, 4))('run and status refuse %j the same way', async (id, rule) => {
    const root = await makeRepo({ 'a.txt': '1\n' });
    for (const args of [['run', id, '--single'], ['status', id]]) {
      const r = await runCli(['--path', root, ...args], { env: cliEnv() });
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(rule);
    }
  });

  it(`accepts a ${MAX_ID_COMPONENT}-character name: its branch and directory are made`, async () => {
    const root = await makeRepo({ 'a.txt': '1\n' });
    const name = 'n'.repeat(MAX_ID_COMPONENT);
    const r = await runCli(['--path', root, 'init', `eng/${name}`, '--target', 'a.txt', '--eval', 'echo score: 1', '--metric', 'score', '--agent', 'true', '--no-baseline'], { env: cliEnv() });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(root, '.autoresearch', 'eng', name, 'config.cfg'))).toBe(true);
    const run = await runCli(['--path', root, 'run', `eng/${name}`, '--single'], { env: cliEnv() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await git(root, 'branch', '--list', `autoresearch/eng/${name}`)).toContain(name);
  });
});
