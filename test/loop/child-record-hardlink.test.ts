/**
 * Review of issue 13 item 5 (state.json.child written in place). O_NOFOLLOW and the
 * regular-file check keep the in-place write out of a symlink or a FIFO put in the record's
 * place; a *hard link* is a regular file too. An agent or evaluation (same user; the
 * experiment directory is $AUTORESEARCH_EXPERIMENT_DIR in its environment) that runs
 * `ln -f results.tsv state.json.child` gets the next record written into the ledger: cut to
 * 1024 bytes and overwritten from offset 0. Every row is lost. The temp + rename it replaced
 * only ever swapped the directory entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childRecordFile, readChildRecord, writeChildRecord } from '../../src/loop/child-record.js';
import type { Intent } from '../../src/experiment/state.js';
import { makeTempDir } from '../helpers/git-repo.js';

const intent: Intent = { phase: 'eval', iteration: 3, base: 'a'.repeat(40), candidate: 'b'.repeat(40), child: null, startedAt: '2026-01-03T00:00:00.000Z' };
const child = { pid: 4242, pgid: 4242, startTime: 123, bootId: '0f0e0d0c-0b0a-4908-8706-050403020100' };

describe('the child record written in place', () => {
  it('never writes through a hard link put in its place (here: to results.tsv)', async () => {
    const dir = await makeTempDir('ar-child-link-');
    const stateFile = path.join(dir, 'state.json');
    const ledger = path.join(dir, 'results.tsv');
    const rows = ['commit\tmetric\tstatus\tdescription', ...Array.from({ length: 60 }, (_, i) => `abcdef${i % 10}\t${i}.000000\tdiscard\titeration ${i}`)].join('\n') + '\n';
    fs.writeFileSync(ledger, rows);
    fs.linkSync(ledger, childRecordFile(stateFile));

    writeChildRecord(stateFile, intent, child);

    expect(fs.readFileSync(ledger, 'utf8'), 'the ledger is untouched').toBe(rows);
    expect(readChildRecord(stateFile, intent)).toEqual(child);
  });
});
