/**
 * What must hold before an experiment with `executor: slurm` starts (part of preflight.ts):
 *
 *   - `sinfo` answers: the SLURM client tools are on PATH and the controller is reachable;
 *   - the nodes can see the worktree (where evaluate_cmd runs) and the experiment directory
 *     (eval.log, the job's exit file). Every node is this host: any filesystem does. Otherwise
 *     each path must be on a filesystem the nodes share (NFS, Lustre, GPFS, BeeGFS, CephFS…):
 *     a local disk would make every job fail to find its directory, or write logs autoresearch
 *     never sees.
 *
 * The decision is a pure function over what was probed (nodes, host, filesystem types); the
 * probe is a thin layer over `sinfo` and /proc/mounts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { errorMessage } from '../core/errors.js';

/** Filesystem types (as /proc/mounts or `stat -f -c %T` name them) that cluster nodes share. */
export const SHARED_FILESYSTEMS: ReadonlySet<string> = new Set([
  'nfs', 'nfs4', 'lustre', 'gpfs', 'beegfs', 'fhgfs', 'ceph', 'cephfs', 'fuse.ceph-fuse', 'glusterfs', 'fuse.glusterfs', 'cifs', 'smb2', 'smb3',
  'smbfs', 'panfs', 'wekafs', 'fuse.sshfs', 'afs', 'openafs', 'gfs2', 'ocfs2', 'pvfs2', 'orangefs', 'quobyte', 'fuse.quobyte', 'fuse.juicefs',
  'fuse.lizardfs', 'fuse.mfs', 'cvfs', 'vastfs',
]);

/** Extra filesystem types a site trusts as shared (comma-separated), for one this list does not know. */
export const SHARED_FILESYSTEMS_ENV = 'AUTORESEARCH_SHARED_FILESYSTEMS';

/** How long `sinfo` may take: an unreachable controller makes it retry for its MessageTimeout. */
const SINFO_TIMEOUT_MS = 30_000;

export interface ProbedPath {
  /** What the path is, in words (`the worktree`, `the experiment directory`). */
  what: string;
  path: string;
  /** Its filesystem type, or null when it could not be found out. */
  fsType: string | null;
}

/**
 * Pure: the paths the nodes cannot see, one problem each (empty: fine). `nodes` are the
 * node names of the partition (or the cluster); `host` is this host's short name.
 */
export function sharedFilesystemProblems(opts: { nodes: readonly string[]; host: string; paths: readonly ProbedPath[]; extraShared?: readonly string[] }): string[] {
  const others = opts.nodes.filter((node) => !isThisHost(node, opts.host));
  if (others.length === 0) return []; // one-node cluster on this host: it sees what we see
  const shared = new Set([...SHARED_FILESYSTEMS, ...(opts.extraShared ?? [])]);
  const nodes = describeNodes(opts.nodes);
  return opts.paths
    .filter((p) => p.fsType === null || !shared.has(p.fsType))
    .map(
      (p) =>
        `expected ${p.what} ${p.path} on a filesystem the cluster's nodes share (nfs, lustre, gpfs, beegfs, cephfs…), ` +
        `found ${p.fsType === null ? 'a filesystem of unknown type' : `\`${p.fsType}\``}, local to this host (${opts.host}), while the jobs run on ${nodes}; ` +
        fixFor(p) +
        (p.fsType === null || LOCAL_FILESYSTEMS.has(p.fsType) ? '' : `; if \`${p.fsType}\` is shared by the nodes, add it to ${SHARED_FILESYSTEMS_ENV}`),
    );
}

/** Types that are certainly one machine's own (no hint to declare them shared). */
const LOCAL_FILESYSTEMS = new Set(['ext2/ext3', 'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'tmpfs', 'overlay', 'overlayfs', 'f2fs', 'vfat', 'exfat', 'ntfs', 'fuseblk', 'ramfs', 'squashfs']);

function fixFor(p: ProbedPath): string {
  return p.what === 'the worktree'
    ? 'set AUTORESEARCH_WORKTREES to a directory on the shared filesystem (the worktree moves there on the next start)'
    : 'put the project (and so its .autoresearch/ directory) on the shared filesystem';
}

function isThisHost(node: string, host: string): boolean {
  const short = (name: string) => name.toLowerCase().split('.')[0] ?? name;
  return short(node) === short(host) || node === 'localhost';
}

function describeNodes(nodes: readonly string[]): string {
  const shown = nodes.slice(0, 5).join(', ');
  return `node${nodes.length === 1 ? '' : 's'} ${shown}${nodes.length > 5 ? ` and ${nodes.length - 5} more` : ''}`;
}

/** The partition(s) slurm_args asks for (`--partition=gpu`, `--partition gpu`, `-p gpu`, `-pgpu`, getopt's `--part=gpu`), or null. */
export function partitionOf(slurmArgs: readonly string[]): string | null {
  let found: string | null = null;
  for (let i = 0; i < slurmArgs.length; i++) {
    const word = slurmArgs[i] as string;
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(word);
    // getopt's abbreviations: `--part` and longer (`--pa`, `--par` could also be --parsable).
    if (long !== null && (long[1] as string).length >= 4 && 'partition'.startsWith(long[1] as string)) found = long[2] ?? slurmArgs[++i] ?? null;
    else if (word === '-p') found = slurmArgs[++i] ?? null;
    else if (/^-p./.test(word)) found = word.slice(2);
  }
  return found;
}

/**
 * Pure: the filesystem type of `file` from /proc/mounts' text: the longest mount point that
 * contains it (a later mount on the same point wins, as it hides the earlier one). null: none.
 */
export function filesystemTypeFromMounts(mounts: string, file: string): string | null {
  let best: { point: string; type: string } | null = null;
  for (const line of mounts.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 3) continue;
    const point = unescapeMount(fields[1] as string);
    const type = fields[2] as string;
    const inside = point === '/' || file === point || file.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (best === null || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type ?? null;
}

/** /proc/mounts writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** A problem and the config key it is about. */
export interface SlurmProblem {
  key: 'executor' | 'slurm_args';
  message: string;
}

/** Every problem for an experiment with executor: slurm (empty: it may start). */
export async function slurmPreflightProblems(opts: { slurmArgs: readonly string[]; paths: ReadonlyArray<{ what: string; path: string }>; env: NodeJS.ProcessEnv }): Promise<SlurmProblem[]> {
  const partition = partitionOf(opts.slurmArgs);
  const nodes = await clusterNodes(partition, opts.env);
  if (typeof nodes === 'string') return [{ key: 'executor', message: nodes }];
  if (nodes.length === 0) {
    return [
      partition === null
        ? { key: 'executor', message: "expected `sinfo` to list the cluster's nodes, found none" }
        : { key: 'slurm_args', message: `expected the partition \`${partition}\` to have nodes, found none (\`sinfo -p ${partition}\` lists nothing; \`sinfo -s\` lists the partitions)` },
    ];
  }
  const probed = opts.paths.map((p) => ({ ...p, fsType: filesystemType(p.path) }));
  const extraShared = (opts.env[SHARED_FILESYSTEMS_ENV] ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  return sharedFilesystemProblems({ nodes, host: os.hostname(), paths: probed, extraShared }).map((message) => ({ key: 'executor', message }));
}

/** The node names `sinfo` lists (of the partition, or all), or the problem when it does not answer. */
async function clusterNodes(partition: string | null, env: NodeJS.ProcessEnv): Promise<string[] | string> {
  const args = ['-h', '-N', '-o', '%N', ...(partition === null ? [] : ['-p', partition])];
  const hint = '`slurm` needs the SLURM client tools (sinfo, sbatch, squeue, scancel) on PATH and a reachable controller';
  try {
    const result = await execa('sinfo', args, { env, extendEnv: false, reject: false, timeout: SINFO_TIMEOUT_MS, stdin: 'ignore' });
    if (result.failed || result.exitCode !== 0) {
      const said = String(result.stderr).trim() || String(result.stdout).trim();
      const why =
        (result as { code?: string }).code === 'ENOENT'
          ? `found no \`sinfo\` on PATH (PATH=${env.PATH ?? ''})`
          : result.timedOut
            ? `\`sinfo ${args.join(' ')}\` did not answer within ${SINFO_TIMEOUT_MS / 1000}s${said === '' ? '' : `: ${said}`}`
            : `\`sinfo ${args.join(' ')}\` failed (${result.exitCode === undefined ? result.shortMessage : `exit ${result.exitCode}`})${said === '' ? '' : `: ${said}`}`;
      return `${hint}: ${why}`;
    }
    return [...new Set(String(result.stdout).split('\n').map((n) => n.trim()).filter((n) => n !== ''))];
  } catch (error) {
    return `${hint}: ${errorMessage(error)}`;
  }
}

/** The filesystem type of a path, or of its nearest existing parent (a worktree not created yet). */
function filesystemType(file: string): string | null {
  let existing = path.resolve(file);
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  let real = existing;
  try {
    real = fs.realpathSync(existing); // /home → /nfs/home: the mount is the link's target's
  } catch {
    // unreadable: the path as given
  }
  try {
    return filesystemTypeFromMounts(fs.readFileSync('/proc/mounts', 'utf8'), real);
  } catch {
    return null; // no /proc (not Linux): unknown, so never taken for shared
  }
}
