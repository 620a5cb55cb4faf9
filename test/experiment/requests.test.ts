import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import { leaveRequest, requestFile, takeRequest } from '../../src/experiment/requests.js';
import { makeTempDir } from '../helpers/git-repo.js';

describe('request files', () => {
  it('takes a request once, and says nothing when there is none', async () => {
    const dir = await makeTempDir('ar-req-');
    const problems: string[] = [];
    expect(takeRequest(dir, 'pause', (m) => problems.push(m))).toBe(false);
    leaveRequest(dir, 'pause');
    expect(takeRequest(dir, 'pause', (m) => problems.push(m))).toBe(true);
    expect(takeRequest(dir, 'pause', (m) => problems.push(m))).toBe(false);
    expect(problems).toEqual([]);
  });

  it('a request that cannot be taken is reported once, naming the file, and ignored', async () => {
    const dir = await makeTempDir('ar-req-');
    await fs.mkdir(requestFile(dir, 'resume'));
    const problems: string[] = [];
    for (let i = 0; i < 3; i++) expect(takeRequest(dir, 'resume', (m) => problems.push(m))).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${path.join(dir, 'resume.request')}: cannot take the resume request \\(E`));
  });

  it('a request that cannot be left is a located error, not an internal one', async () => {
    const dir = await makeTempDir('ar-req-');
    await fs.mkdir(requestFile(dir, 'pause'));
    expect(() => leaveRequest(dir, 'pause')).toThrow(AutoresearchError);
    expect(() => leaveRequest(dir, 'pause')).toThrow(`${path.join(dir, 'pause.request')}: cannot leave the pause request for the running \`run\`: EISDIR`);
  });
});
