/**
 * infrastructure.jsonl: failures of the cluster under an evaluation (preemption, node
 * failure), one JSON object per line, appended when they happen. They are never rows (the
 * candidate is not at fault); `report` lists them. A torn last line (a kill mid-append) is
 * skipped by the reader.
 */
import fs from 'node:fs';
import type { InfrastructureFailure } from '../measure/executor.js';

export interface InfrastructureRecord extends InfrastructureFailure {
  /** When it was seen (ISO 8601). */
  at: string;
  iteration: number;
}

export function appendInfrastructureFailure(file: string, record: InfrastructureRecord): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, JSON.stringify(record) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every complete record, oldest first ([] when the file does not exist). */
export function readInfrastructureFailures(file: string): InfrastructureRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: InfrastructureRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as InfrastructureRecord;
      if (typeof value === 'object' && value !== null && typeof value.iteration === 'number' && typeof value.job?.state === 'string') records.push(value);
    } catch {
      // a torn line from a kill mid-append
    }
  }
  return records;
}
