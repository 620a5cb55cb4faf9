import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import { fsyncDirectory, readFileIfExists, writeFileDurable } from '../../src/fs/durable.js';
import { makeTempDir } from '../helpers/git-repo.js';

async function durabilityError(promise: Promise<unknown>): Promise<AutoresearchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AutoresearchError);
  expect((error as AutoresearchError).code).toBe('DURABILITY');
  return error as AutoresearchError;
}

describe('writeFileDurable', () => {
  it('creates the file with the given text and leaves no temp file behind', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'state.json');
    await writeFileDurable(file, '{"a":1}\n');
    expect(await fs.readFile(file, 'utf8')).toBe('{"a":1}\n');
    expect(await fs.readdir(dir)).toEqual(['state.json']);
  });

  it('replaces an existing file whole, with bytes as given, keeping its permissions', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'state.json');
    await fs.writeFile(file, 'old content that is longer than the new one');
    await fs.chmod(file, 0o600);
    await writeFileDurable(file, new Uint8Array([0x6e, 0x65, 0x77, 0xc3, 0xa9]));
    expect(await fs.readFile(file)).toEqual(Buffer.from('newé'));
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual(['state.json']);
  });

  it('fails with DURABILITY naming the rename and both paths, and removes its temp file', async () => {
    const dir = await makeTempDir();
    const target = path.join(dir, 'taken');
    await fs.mkdir(path.join(target, 'child'), { recursive: true }); // rename onto a non-empty directory fails
    const error = await durabilityError(writeFileDurable(target, 'x'));
    expect(error.message).toMatch(new RegExp(`^rename ${dir}/taken\\.\\d+-\\d+-\\d+\\.tmp to ${target} failed: `));
    expect(await fs.readdir(dir)).toEqual(['taken']);
  });

  it('fails with DURABILITY naming the temp file when the directory does not exist', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'missing', 'state.json');
    const error = await durabilityError(writeFileDurable(file, 'x'));
    expect(error.message).toContain('create temp file');
    expect(error.message).toContain(`for ${file} failed: ENOENT`);
  });
});

describe('fsyncDirectory', () => {
  it('succeeds on a directory and names the directory when it cannot open it', async () => {
    const dir = await makeTempDir();
    await expect(fsyncDirectory(dir)).resolves.toBeUndefined();
    const missing = path.join(dir, 'nope');
    const error = await durabilityError(fsyncDirectory(missing));
    expect(error.message).toMatch(new RegExp(`^open directory ${missing} failed: ENOENT`));
  });
});

describe('readFileIfExists', () => {
  it('returns the content, null for a missing file, and throws other errors', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'a.txt');
    await fs.writeFile(file, 'héllo');
    expect(await readFileIfExists(file)).toBe('héllo');
    expect(await readFileIfExists(path.join(dir, 'b.txt'))).toBeNull();
    await expect(readFileIfExists(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
