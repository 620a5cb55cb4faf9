/**
 * How many fsyncs each durability level makes (docs/ARCHITECTURE.md, "Which write protects
 * what"), counted on the real node:fs, and that every level still replaces the file whole.
 * The state store writes what it staged only with its next update, at the level asked.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { writeFileDurable } from '../../src/fs/durable.js';
import { StateStore } from '../../src/experiment/state-store.js';
import { STATE_VERSION, type ExperimentState } from '../../src/experiment/state.js';
import { makeTempDir } from '../helpers/git-repo.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts fsyncs made during `fn`, split into directories and files. */
async function fsyncsDuring(fn: () => Promise<unknown>): Promise<{ files: number; directories: number }> {
  const counted = { files: 0, directories: 0 };
  const real = fsSync.fsyncSync;
  const spy = vi.spyOn(fsSync, 'fsyncSync').mockImplementation((fd: number) => {
    if (fsSync.fstatSync(fd).isDirectory()) counted.directories++;
    else counted.files++;
    real(fd);
  });
  await fn();
  spy.mockRestore();
  return counted;
}

describe('writeFileDurable durability levels', () => {
  it('full: the temp file and the directory; none: no fsync; each replaces the file whole', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'state.json');
    expect(await fsyncsDuring(() => writeFileDurable(file, 'one\n'))).toEqual({ files: 1, directories: 1 });
    expect(await fs.readFile(file, 'utf8')).toBe('one\n');
    expect(await fsyncsDuring(() => writeFileDurable(file, 'three\n', { durability: 'none' }))).toEqual({ files: 0, directories: 0 });
    expect(await fs.readFile(file, 'utf8')).toBe('three\n');
    expect(await fs.readdir(dir)).toEqual(['state.json']); // no temp file left at any level
  });
});

function initialState(dir: string): ExperimentState {
  const now = new Date(0).toISOString();
  return {
    version: STATE_VERSION,
    id: 'd/x',
    projectRoot: dir,
    worktree: dir,
    branch: 'autoresearch/d/x',
    lastKept: { commit: 'a'.repeat(40), metric: 1, iteration: 0 },
    consecutiveCrashes: 0,
    setupDone: true,
    halt: null,
    exhausted: {},
    intent: null,
    firstStartedAt: now,
    updatedAt: now,
  };
}

describe('StateStore', () => {
  it('keeps a staged change in memory until the next update writes it (durably)', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'state.json');
    const store = new StateStore(file, initialState(dir), systemClock);
    await store.update({});
    const onDisk = async () => JSON.parse(await fs.readFile(file, 'utf8')) as ExperimentState;

    expect(await fsyncsDuring(async () => store.stage({ consecutiveCrashes: 3 }))).toEqual({ files: 0, directories: 0 });
    expect(store.current.consecutiveCrashes).toBe(3);
    expect((await onDisk()).consecutiveCrashes).toBe(0);

    expect(await fsyncsDuring(() => store.update({ setupDone: false }))).toEqual({ files: 1, directories: 1 });
    expect(await onDisk()).toMatchObject({ consecutiveCrashes: 3, setupDone: false });
  });
});
