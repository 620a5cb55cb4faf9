import fs from 'node:fs';

/** The last `bytes` of a file as UTF-8 (logs, agent output); '' if it does not exist. */
export function readTail(file: string, bytes: number): string {
  return readTailBytes(file, bytes).toString('utf8');
}

/**
 * The last `bytes` of a file, starting at a line: when the file is longer, the line cut in
 * the middle is dropped. For output that is classified: a fragment of a JSON event (the text
 * of a file an agent read) is neither the event nor a line the CLI printed, and must not be
 * read as one.
 */
export function readTailLines(file: string, bytes: number): string {
  const tail = readTailBytes(file, bytes + 1); // one more: is the first byte a line's start?
  if (tail.length <= bytes) return tail.toString('utf8');
  const newline = tail.indexOf(0x0a);
  return newline < 0 ? '' : tail.subarray(newline + 1).toString('utf8');
}

function readTailBytes(file: string, bytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = fs.fstatSync(fd);
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    return buffer;
  } finally {
    fs.closeSync(fd);
  }
}
