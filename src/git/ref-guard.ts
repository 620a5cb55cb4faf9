/**
 * The user's refs are never the agent's to change. Refs are shared by every worktree of a
 * repository: from inside our worktree the agent's `git branch x`, `git tag y`, `git stash
 * pop` or `git update-ref refs/heads/main HEAD` reach the user's own branches, tags and stash.
 *
 * Two layers (docs/ARCHITECTURE.md, "The user's refs"):
 *  1. Prevention. The agent's git gets, through the environment (GIT_CONFIG_COUNT, which
 *     every git >= 2.31 reads like `-c`, and GIT_CONFIG_PARAMETERS, which is `-c` itself and
 *     read after it), `core.hooksPath` = a directory of ours whose
 *     `reference-transaction` hook refuses, in the "prepared" state, any update outside the
 *     experiment: its branch, refs/autoresearch/<id>/ and the worktree's private refs (HEAD,
 *     ORIG_HEAD, refs/bisect/…). Every other hook there runs the user's hook of that name, so
 *     the user's hooks still run for the agent's commits. Prevention is what makes the second
 *     layer safe while the user works in their own checkout during a turn: the agent's
 *     updates never happen, so a change seen afterwards is rarely the agent's.
 *  2. Verification. A hook can be bypassed (`git -c core.hooksPath=`, writing ref files by
 *     hand, `git stash pop`'s reflog rewrite, which takes no transaction). So the user-visible
 *     refs (every ref except refs/autoresearch/ and the experiment branches refs/heads/autoresearch/,
 *     which belong to the daemon's experiments) are listed before the turn and compared after:
 *     a changed or deleted ref is put back, a created one removed. Nothing is lost either
 *     way: the value found is kept under refs/autoresearch/<id>/displaced/<ms>/… and the log
 *     says so. One exception keeps the user's concurrent work: when the user's checkout
 *     itself moved during the turn (its HEAD reflog grew: they committed, switched, reset),
 *     the branch it is on now is theirs and left alone.
 *     refs/stash comes back exactly: its value and its reflog's bytes (`git stash list` in
 *     the user's checkout is identical before and after).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { GitClient } from './git-client.js';
import { hooksPathKey, refFilesFingerprint } from './ref-files.js';

/** Hook names git knows (githooks(5)); each gets a wrapper that runs the user's hook. */
const HOOK_NAMES = [
  'applypatch-msg', 'pre-applypatch', 'post-applypatch', 'pre-commit', 'pre-merge-commit', 'prepare-commit-msg',
  'commit-msg', 'post-commit', 'pre-rebase', 'post-checkout', 'post-merge', 'pre-push', 'pre-auto-gc',
  'post-rewrite', 'sendemail-validate', 'fsmonitor-watchman', 'post-index-change',
];

/** Refs private to a worktree (HEAD and friends): the agent's own to move. */
const WORKTREE_PRIVATE = ['HEAD', 'ORIG_HEAD', 'FETCH_HEAD', 'MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'BISECT_HEAD', 'REBASE_HEAD', 'AUTO_MERGE', 'refs/bisect/*', 'refs/worktree/*', 'refs/rewritten/*'];

/**
 * Refs a guard put back, for the other experiments of the same daemon: a turn of B that
 * overlaps A's sees A's agent's change in its "before" and A's put-back in its "after"; B
 * must not undo A's put-back. Only this process's guards (a second `run` on the same
 * repository in another process is not covered).
 */
const putBack: { commonDir: string; ref: string; value: string | undefined; seq: number }[] = [];
let sequence = 0;

/**
 * What git said last, per repository, so that a turn in which nothing changed starts no git
 * (ref-files.ts): the user-visible refs with the ref files' fingerprint taken just before
 * they were listed, and the user's hooks dir with the key of the config that decides it.
 */
const listedRefs = new Map<string, { fingerprint: string; refs: Map<string, string> }>();
const userHooksDirs = new Map<string, { key: string; dir: string }>();

export interface RefSnapshot {
  /** Position in `putBack` when taken. */
  seq: number;
  refs: Map<string, string>;
  /** The ref files' fingerprint `refs` is known to match (null: unknown, ask git after the turn). */
  fingerprint: string | null;
  /** The bytes of logs/refs/stash (null: none). */
  stashLog: Buffer | null;
  /** Size of the user's checkout's HEAD reflog and its index's mtime: both change when they commit, switch or reset there. */
  userHeadLogSize: number;
  userIndexMtime: number;
}

export interface RefGuardOptions {
  /** The user's checkout and the repository's common git dir. */
  root: string;
  gitCommonDir: string;
  /** The experiment branch (short name) and id key: refs/autoresearch/<idKey>/ is ours. */
  branch: string;
  idKey: string;
  /** Where our hooks are written. */
  hooksDir: string;
}

export class RefGuard {
  private readonly git: GitClient;

  constructor(private readonly opts: RefGuardOptions) {
    this.git = new GitClient(opts.root, { GIT_OPTIONAL_LOCKS: '0' });
  }

  /**
   * `env` plus the config entry that gives the agent's git our hooks: appended to any
   * GIT_CONFIG_COUNT already there, and to GIT_CONFIG_PARAMETERS, which git reads after the
   * GIT_CONFIG_COUNT entries: gemini 0.61's shell tool appends `core.hooksPath=` to
   * GIT_CONFIG_COUNT for every command it runs, which alone would turn our hooks off.
   */
  async agentEnv<T extends Record<string, string | undefined>>(env: T): Promise<T & Record<string, string>> {
    this.writeHooks(await this.userHooksDir());
    const count = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10);
    const n = Number.isInteger(count) && count > 0 ? count : 0;
    const parameter = shellQuote(`core.hooksPath=${this.opts.hooksDir}`);
    const parameters = env.GIT_CONFIG_PARAMETERS ? `${env.GIT_CONFIG_PARAMETERS} ${parameter}` : parameter;
    return { ...env, GIT_CONFIG_COUNT: String(n + 1), [`GIT_CONFIG_KEY_${n}`]: 'core.hooksPath', [`GIT_CONFIG_VALUE_${n}`]: this.opts.hooksDir, GIT_CONFIG_PARAMETERS: parameters };
  }

  async snapshot(): Promise<RefSnapshot> {
    const { refs, fingerprint } = await this.currentRefs();
    return { seq: ++sequence, refs, fingerprint, stashLog: this.readStashLog(), userHeadLogSize: this.userHeadLogSize(), userIndexMtime: this.userIndexMtime() };
  }

  /**
   * The user-visible refs: the last listing when no ref file changed since it was taken
   * (no git process), else `git for-each-ref`, remembered with the fingerprint read before it
   * (a change in between makes the next fingerprint differ: listed again, never trusted stale).
   */
  private async currentRefs(): Promise<{ refs: Map<string, string>; fingerprint: string | null }> {
    const fingerprint = refFilesFingerprint(this.refGitDirs());
    const known = listedRefs.get(this.opts.gitCommonDir);
    if (fingerprint !== null && known?.fingerprint === fingerprint) return { refs: known.refs, fingerprint };
    const refs = await this.userRefs();
    if (fingerprint === null) listedRefs.delete(this.opts.gitCommonDir);
    else listedRefs.set(this.opts.gitCommonDir, { fingerprint, refs });
    return { refs, fingerprint };
  }

  /** The git dirs whose ref files `for-each-ref` in the user's checkout reads. */
  private refGitDirs(): string[] {
    const own = this.userGitDir();
    return own === this.opts.gitCommonDir ? [own] : [this.opts.gitCommonDir, own];
  }

  /**
   * The hooks the user's git runs (core.hooksPath or .git/hooks), absolute: asked of git once,
   * and again whenever a config file that could change the answer changed (ref-files.ts).
   */
  private async userHooksDir(): Promise<string> {
    const key = `${this.opts.root}\n${hooksPathKey(this.opts.gitCommonDir, this.userGitDir())}`;
    const known = userHooksDirs.get(this.opts.root);
    if (known?.key === key) return known.dir;
    // Not through GitClient: it sets core.hooksPath=/dev/null for our own git.
    const { stdout } = await execa('git', ['rev-parse', '--git-path', 'hooks'], { cwd: this.opts.root, env: { GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_CONFIG_COUNT: undefined } });
    const dir = path.resolve(this.opts.root, stdout.trim());
    userHooksDirs.set(this.opts.root, { key, dir });
    return dir;
  }

  /**
   * Put back every user-visible ref that differs from `before`; returns one line per ref
   * put back (empty: nothing was touched). `agentReachedRepository`: the worktree's .git was
   * replaced, so the agent's git may have run as the user's checkout (its HEAD reflog and
   * index are no sign of the user then).
   */
  async restore(before: RefSnapshot, now: number, agentReachedRepository = false): Promise<string[]> {
    // No ref file changed since the snapshot: the refs are as they were (no git process).
    const unchanged = before.fingerprint !== null && refFilesFingerprint(this.refGitDirs()) === before.fingerprint;
    const after = unchanged ? before.refs : (await this.currentRefs()).refs;
    const stashLog = this.readStashLog();
    // An update-ref of the branch HEAD is on also logs to HEAD; only the user's own commit,
    // switch or reset in their checkout also writes its index.
    const userMoved = !agentReachedRepository && this.userHeadLogSize() !== before.userHeadLogSize && this.userIndexMtime() !== before.userIndexMtime;
    const userBranch = userMoved ? this.userBranch() : null;
    const notes: string[] = [];
    const names = new Set([...before.refs.keys(), ...after.keys()]);
    for (const ref of [...names].sort()) {
      const was = before.refs.get(ref);
      const is = after.get(ref);
      const stashLogChanged = ref === 'refs/stash' && !sameBytes(before.stashLog, stashLog);
      if (was === is && !stashLogChanged) continue;
      if (ref === userBranch) continue; // the user's own commit, switch or reset in their checkout
      if (putBack.some((p) => p.commonDir === this.opts.gitCommonDir && p.ref === ref && p.value === is && p.seq > before.seq)) continue; // another experiment's guard
      if (is !== undefined) {
        const aside = `refs/autoresearch/${this.opts.idKey}/displaced/${now}/${ref.replace(/^refs\//, '')}`;
        await this.git.run(['update-ref', '--no-deref', aside, is]);
        notes.push(was === undefined ? `removed ${ref} (created during the agent turn; kept as ${aside})` : `put back ${ref} to ${was.slice(0, 7)} (it was moved to ${is.slice(0, 7)}, kept as ${aside})`);
      } else {
        notes.push(`put back ${ref} at ${was?.slice(0, 7)} (deleted during the agent turn)`);
      }
      if (was === undefined) await this.git.run(['update-ref', '--no-deref', '-d', ref]);
      else await this.git.run(['update-ref', '--no-deref', ref, was]);
      putBack.push({ commonDir: this.opts.gitCommonDir, ref, value: was, seq: ++sequence });
      if (putBack.length > 1000) putBack.splice(0, putBack.length - 1000);
      if (ref === 'refs/stash') {
        this.writeStashLog(before.stashLog);
        if (was === is) notes[notes.length - 1] = 'put back the stash list (entries were dropped or added during the agent turn)';
      }
    }
    if (!names.has('refs/stash') && !sameBytes(before.stashLog, stashLog)) this.writeStashLog(before.stashLog);
    return notes;
  }

  /** Every ref the user sees, with its value: refs/autoresearch/ and the experiment branches excluded. */
  private async userRefs(): Promise<Map<string, string>> {
    const out = await this.git.out(['for-each-ref', '--format=%(objectname) %(refname)']);
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const ref = line.slice(space + 1);
      if (ref.startsWith('refs/autoresearch/') || ref.startsWith('refs/heads/autoresearch/')) continue;
      refs.set(ref, line.slice(0, space));
    }
    return refs;
  }

  private stashLogPath(): string {
    return path.join(this.opts.gitCommonDir, 'logs', 'refs', 'stash');
  }

  private readStashLog(): Buffer | null {
    try {
      return fs.readFileSync(this.stashLogPath());
    } catch {
      return null;
    }
  }

  private writeStashLog(bytes: Buffer | null): void {
    const file = this.stashLogPath();
    if (bytes === null) {
      fs.rmSync(file, { force: true });
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.autoresearch-tmp`;
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, file);
  }

  /** The user's checkout's own git dir: the common dir, or its linked worktree's dir. */
  private userGitDir(): string {
    try {
      const match = /^gitdir: (.*)$/m.exec(fs.readFileSync(path.join(this.opts.root, '.git'), 'utf8'));
      if (match?.[1] !== undefined) return path.resolve(this.opts.root, match[1].trim());
    } catch {
      // a .git directory: the common dir
    }
    return this.opts.gitCommonDir;
  }

  private userHeadLogSize(): number {
    try {
      return fs.statSync(path.join(this.userGitDir(), 'logs', 'HEAD')).size;
    } catch {
      return -1;
    }
  }

  private userIndexMtime(): number {
    try {
      return fs.statSync(path.join(this.userGitDir(), 'index')).mtimeMs;
    } catch {
      return -1;
    }
  }

  private userBranch(): string | null {
    try {
      return /^ref: (\S+)/.exec(fs.readFileSync(path.join(this.userGitDir(), 'HEAD'), 'utf8'))?.[1] ?? null;
    } catch {
      return null;
    }
  }

  /** Our hooks: reference-transaction refuses refs outside the experiment; the others run the user's. */
  private writeHooks(userHooksDir: string): void {
    const { hooksDir, branch, idKey } = this.opts;
    fs.mkdirSync(hooksDir, { recursive: true });
    const userHook = (name: string) => shellQuote(path.join(userHooksDir, name));
    for (const name of HOOK_NAMES) {
      writeExecutable(path.join(hooksDir, name), `#!/bin/sh\n# autoresearch: runs your own ${name} hook, if any.\n[ -x ${userHook(name)} ] || exit 0\nexec ${userHook(name)} "$@"\n`);
    }
    const allowed = [...WORKTREE_PRIVATE, shellQuote(`refs/heads/${branch}`), `${shellQuote(`refs/autoresearch/${idKey}/`)}*`].join('|');
    writeExecutable(
      path.join(hooksDir, 'reference-transaction'),
      `#!/bin/sh
# autoresearch: the agent works in the experiment's worktree; the user's branches, tags,
# stash and notes are not its to change. Refused before anything is written.
input=$(cat)
if [ "$1" = prepared ]; then
  refused=
  while read -r old new ref; do
    [ -z "$ref" ] && continue
    case "$ref" in
      ${allowed}) ;;
      *) refused="$refused $ref" ;;
    esac
  done <<EOF
$input
EOF
  if [ -n "$refused" ]; then
    echo "autoresearch: refused to change$refused: only ${`refs/heads/${branch}`.replaceAll('"', '')} and refs/autoresearch/${idKey.replaceAll('"', '')}/ may change from the experiment's worktree (the other refs are the user's)" >&2
    exit 1
  fi
fi
[ -x ${userHook('reference-transaction')} ] || exit 0
printf '%s\\n' "$input" | ${userHook('reference-transaction')} "$@"
`,
    );
  }
}

function writeExecutable(file: string, content: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return;
  } catch {
    // not there yet
  }
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, content, { mode: 0o755 });
  fs.renameSync(temp, file);
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
