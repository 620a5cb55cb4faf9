/**
 * The shared-filesystem decision of executor: slurm (pure), and how the partition and the
 * filesystem type are read.
 */
import { describe, expect, it } from 'vitest';
import { filesystemTypeFromMounts, partitionOf, sharedFilesystemProblems } from '../../src/experiment/slurm-preflight.js';

const paths = (worktree: string | null, experiment: string | null) => [
  { what: 'the worktree', path: '/home/ann/.local/state/autoresearch/worktrees/app-1/eng/train', fsType: worktree },
  { what: 'the experiment directory', path: '/home/ann/app/.autoresearch/eng/train', fsType: experiment },
];

describe('sharedFilesystemProblems', () => {
  it('accepts any filesystem when every node is this host (a one-node cluster)', () => {
    expect(sharedFilesystemProblems({ nodes: ['login1'], host: 'login1', paths: paths('ext2/ext3', 'tmpfs') })).toEqual([]);
    expect(sharedFilesystemProblems({ nodes: ['LOGIN1.cluster.example'], host: 'login1', paths: paths('xfs', 'xfs') })).toEqual([]);
  });

  it('accepts shared filesystems when the jobs run on other nodes', () => {
    for (const type of ['nfs', 'nfs4', 'lustre', 'gpfs', 'beegfs', 'ceph', 'fuse.glusterfs', 'cifs', 'wekafs', 'fuse.sshfs']) {
      expect(sharedFilesystemProblems({ nodes: ['gpu1', 'gpu2'], host: 'login1', paths: paths(type, 'nfs') }), type).toEqual([]);
    }
  });

  it('refuses a local filesystem, naming the path, its type, the nodes and the fix for each path', () => {
    const problems = sharedFilesystemProblems({ nodes: ['login1', 'gpu1', 'gpu2'], host: 'login1', paths: paths('ext2/ext3', 'nfs4') });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(
      'expected the worktree /home/ann/.local/state/autoresearch/worktrees/app-1/eng/train on a filesystem the cluster\'s nodes share (nfs, lustre, gpfs, beegfs, cephfs…), ' +
        'found `ext2/ext3`, local to this host (login1), while the jobs run on nodes login1, gpu1, gpu2; ' +
        'set AUTORESEARCH_WORKTREES to a directory on the shared filesystem (the worktree moves there on the next start)',
    );
    const both = sharedFilesystemProblems({ nodes: ['gpu1'], host: 'login1', paths: paths('nfs', 'overlay') });
    expect(both).toEqual([expect.stringContaining('the experiment directory /home/ann/app/.autoresearch/eng/train')]);
    expect(both[0]).toContain('found `overlay`');
    expect(both[0]).toContain('put the project (and so its .autoresearch/ directory) on the shared filesystem');
  });

  it('refuses an unknown type too, saying how to declare it shared; a declared one passes', () => {
    const [problem] = sharedFilesystemProblems({ nodes: ['gpu1'], host: 'login1', paths: paths('fuse.myfs', 'nfs') });
    expect(problem).toContain('found `fuse.myfs`');
    expect(problem).toContain('add it to AUTORESEARCH_SHARED_FILESYSTEMS');
    expect(sharedFilesystemProblems({ nodes: ['gpu1'], host: 'login1', paths: paths('fuse.myfs', 'nfs'), extraShared: ['fuse.myfs'] })).toEqual([]);
    expect(sharedFilesystemProblems({ nodes: ['gpu1'], host: 'login1', paths: paths(null, 'nfs') })[0]).toContain('found a filesystem of unknown type');
  });
});

describe('partitionOf', () => {
  it.each([
    [['--partition=gpu'], 'gpu'],
    [['--qos=long', '--partition', 'gpu,debug'], 'gpu,debug'],
    [['-p', 'gpu'], 'gpu'],
    [['-pgpu'], 'gpu'],
    [['--part=gpu'], 'gpu'],
    [['--parsable'], null],
    [['--priority=10', '--gres=gpu:1'], null],
    [[], null],
  ])('%j → %s', (args, partition) => {
    expect(partitionOf(args)).toBe(partition);
  });
});

describe('filesystemTypeFromMounts', () => {
  const mounts = [
    '/dev/sda1 / ext4 rw 0 0',
    'server:/export/home /home nfs4 rw 0 0',
    'tmpfs /home/ann/tmp tmpfs rw 0 0',
    'server:/scratch /mnt/my\\040scratch lustre rw 0 0',
    'overlay /home overlay rw 0 0',
  ].join('\n');

  it('takes the longest mount point containing the path, the later of two on the same point', () => {
    expect(filesystemTypeFromMounts(mounts, '/var/lib')).toBe('ext4');
    expect(filesystemTypeFromMounts(mounts, '/home/ann/app')).toBe('overlay'); // mounted over the nfs4 /home
    expect(filesystemTypeFromMounts(mounts, '/home/ann/tmp/x')).toBe('tmpfs');
    expect(filesystemTypeFromMounts(mounts, '/home/ann/tmpfoo')).toBe('overlay'); // not inside /home/ann/tmp
    expect(filesystemTypeFromMounts(mounts, '/mnt/my scratch/run')).toBe('lustre'); // \040 is a space
    expect(filesystemTypeFromMounts('', '/x')).toBeNull();
  });
});
