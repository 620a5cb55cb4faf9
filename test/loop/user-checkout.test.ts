/** The user's own checkout, branch, index and uncommitted files are never touched. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';

describe("the user's checkout", () => {
  it('is left byte-for-byte alone by a whole run, and git status shows only .autoresearch config', async () => {
    const project = await makeProject({
      plan: [`echo 5 > value.txt && git commit -qam five`, `echo 9 > value.txt`, `echo x > other.txt`, `echo 3 > value.txt && touch new.txt`],
    });
    await git(project.root, 'checkout', '-q', '-b', 'my-work');
    await fs.writeFile(path.join(project.root, 'value.txt'), '42\n'); // unstaged edit of the target
    await fs.writeFile(path.join(project.root, 'other.txt'), 'staged\n');
    await git(project.root, 'add', 'other.txt'); // a staged change
    await fs.writeFile(path.join(project.root, 'notes.txt'), 'untracked\n'); // untracked file
    const before = {
      files: await snapshotTree(project.root),
      status: await git(project.root, 'status', '--porcelain', '--untracked-files=all'),
      branch: await git(project.root, 'branch', '--show-current'),
      head: await git(project.root, 'rev-parse', 'HEAD'),
      staged: await git(project.root, 'diff', '--cached'),
    };

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).length).toBe(5);

    const after = await snapshotTree(project.root);
    for (const [file, content] of before.files) expect(after.get(file), file).toBe(content);
    const added = [...after.keys()].filter((f) => !before.files.has(f));
    expect(added.every((f) => f.startsWith('.autoresearch/'))).toBe(true);
    expect(await git(project.root, 'branch', '--show-current')).toBe(before.branch);
    expect(await git(project.root, 'rev-parse', 'HEAD')).toBe(before.head);
    expect(await git(project.root, 'diff', '--cached')).toBe(before.staged);
    // Daemon-owned files (results.tsv, state, logs, runs/) never show in git status.
    const status = await git(project.root, 'status', '--porcelain', '--untracked-files=all');
    const newLines = status.split('\n').filter((l) => !before.status.split('\n').includes(l));
    expect(newLines.length).toBeGreaterThan(0);
    for (const line of newLines) expect(line).toMatch(/^\?\? \.autoresearch\/test\/exp\/(config\.cfg|\.gitignore|program\.md)$/);
  });
});
