/**
 * state.json.child on disk (loop/child-record.ts): written in place as one padded block, read
 * back exactly, never confused by what an earlier (longer, shorter, torn) record left.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childRecordFile, readChildRecord, writeChildRecord } from '../../src/loop/child-record.js';
import type { Intent } from '../../src/experiment/state.js';
import { makeTempDir } from '../helpers/git-repo.js';

const intent = (iteration: number, phase: 'agent' | 'eval' = 'eval'): Intent => ({
  phase,
  iteration,
  base: 'a'.repeat(40),
  candidate: 'b'.repeat(40),
  child: null,
  startedAt: `2026-01-0${iteration}T00:00:00.000Z`,
});
const child = (pid: number) => ({ pid, pgid: pid, startTime: 123456 + pid, bootId: '0f0e0d0c-0b0a-4908-8706-050403020100' });

describe('the child record next to state.json', () => {
  it('reads back what was written, and only for its own intent', async () => {
    const stateFile = path.join(await makeTempDir('ar-child-'), 'state.json');
    writeChildRecord(stateFile, intent(1), child(4242));
    expect(readChildRecord(stateFile, intent(1))).toEqual(child(4242));
    expect(readChildRecord(stateFile, intent(1, 'agent'))).toBeNull();
    expect(readChildRecord(stateFile, intent(2))).toBeNull();
  });

  it('overwrites in place, keeping the same file: a later record replaces an earlier one whole', async () => {
    const stateFile = path.join(await makeTempDir('ar-child-'), 'state.json');
    const file = childRecordFile(stateFile);
    writeChildRecord(stateFile, intent(1, 'agent'), child(1_000_000));
    const inode = fs.statSync(file).ino;
    writeChildRecord(stateFile, intent(1), child(7));
    expect(fs.statSync(file).ino, 'no temp file renamed over it').toBe(inode);
    expect(readChildRecord(stateFile, intent(1, 'agent'))).toBeNull();
    expect(readChildRecord(stateFile, intent(1))).toEqual(child(7));
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json.child']);
  });

  it('a longer file left by an earlier version (or any writer) leaves no tail behind', async () => {
    const stateFile = path.join(await makeTempDir('ar-child-'), 'state.json');
    const file = childRecordFile(stateFile);
    fs.writeFileSync(file, JSON.stringify({ intent: { iteration: 9, phase: 'eval', startedAt: null }, child: child(9), note: 'x'.repeat(5000) }) + '\n');
    writeChildRecord(stateFile, intent(2), child(11));
    expect(readChildRecord(stateFile, intent(2))).toEqual(child(11));
    // A short record from the earlier version is fully covered too.
    fs.writeFileSync(file, '{}');
    writeChildRecord(stateFile, intent(3), child(12));
    expect(readChildRecord(stateFile, intent(3))).toEqual(child(12));
  });

  it('never writes through a symlink or into a FIFO put in its place: the record replaces them', async () => {
    const dir = await makeTempDir('ar-child-');
    const stateFile = path.join(dir, 'state.json');
    const file = childRecordFile(stateFile);
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'the user\'s file\n');
    fs.symlinkSync(victim, file);
    writeChildRecord(stateFile, intent(1), child(21));
    expect(fs.readFileSync(victim, 'utf8')).toBe('the user\'s file\n');
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(readChildRecord(stateFile, intent(1))).toEqual(child(21));

    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    writeChildRecord(stateFile, intent(2), child(22)); // would block forever opening a FIFO for writing
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(readChildRecord(stateFile, intent(2))).toEqual(child(22));
  });

  it('an unreadable record (torn by a power loss, empty, garbage) is absent, not an error', async () => {
    const stateFile = path.join(await makeTempDir('ar-child-'), 'state.json');
    const file = childRecordFile(stateFile);
    writeChildRecord(stateFile, intent(1), child(5));
    const block = fs.readFileSync(file);
    fs.writeFileSync(file, block.subarray(0, 40));
    expect(readChildRecord(stateFile, intent(1))).toBeNull();
    fs.writeFileSync(file, '');
    expect(readChildRecord(stateFile, intent(1))).toBeNull();
    fs.writeFileSync(file, Buffer.alloc(1024, 0));
    expect(readChildRecord(stateFile, intent(1))).toBeNull();
    fs.rmSync(file);
    expect(readChildRecord(stateFile, intent(1))).toBeNull();
  });
});
