/**
 * Real git repositories in temp dirs. The identity is passed per command, never taken
 * from the machine's config.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll } from 'vitest';

const created: string[] = [];

afterAll(async () => {
  if (process.env.AUTORESEARCH_KEEP_TMP) return;
  await Promise.all(created.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

export async function makeTempDir(prefix = 'ar-test-'): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  created.push(dir);
  return dir;
}

const IDENTITY = ['-c', 'user.name=Test User', '-c', 'user.email=test@example.com', '-c', 'gc.auto=0', '-c', 'commit.gpgsign=false'];

/** Run git in `dir` with a test identity; returns trimmed stdout. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await execa('git', [...IDENTITY, ...args], { cwd: dir });
  return stdout.trim();
}

/** Write files (creating directories) relative to `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

/** A new repo on branch `main` with `files` committed (one commit). Returns its path. */
export async function makeRepo(files: Record<string, string> = { 'README.md': '# test\n' }): Promise<string> {
  const dir = await makeTempDir('ar-repo-');
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFiles(dir, files);
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** A snapshot of every file under `dir` except .git: path → content (for "byte-for-byte" checks). */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const p = path.join(rel, entry.name);
      if (p === '.git') continue;
      if (entry.isDirectory()) await walk(p);
      else out.set(p, (await fs.readFile(path.join(dir, p))).toString('base64'));
    }
  }
  await walk('');
  return out;
}
