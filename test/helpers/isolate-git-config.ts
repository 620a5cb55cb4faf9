/**
 * Every test runs as on a fresh machine: no global or system git config, hence no git
 * identity. Test repos set their identity per command (see git-repo.ts); the code under
 * test must supply its own when it commits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// One fresh directory per test process (never a name from the pid alone: a file left by a
// worker of another user with the same pid, as CI's root run before its non-root run, is not ours).
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `autoresearch-test-${process.pid}-`));
const emptyConfig = path.join(scratch, 'empty-gitconfig');
fs.writeFileSync(emptyConfig, '');
process.once('exit', () => fs.rmSync(emptyConfig, { force: true }));
process.env.GIT_CONFIG_GLOBAL = emptyConfig;
process.env.GIT_CONFIG_NOSYSTEM = '1';
delete process.env.GIT_AUTHOR_NAME;
delete process.env.GIT_AUTHOR_EMAIL;
delete process.env.GIT_COMMITTER_NAME;
delete process.env.GIT_COMMITTER_EMAIL;
delete process.env.EMAIL;
// User-scope experiments never leak in from the developer's home.
process.env.AUTORESEARCH_HOME = path.join(scratch, 'home');
// Experiment worktrees (default ~/.local/state/autoresearch/worktrees) never land in the developer's home.
// CLI children inherit this (cliEnv passes it on); removed with the process, like the files above.
const worktrees = path.join(scratch, 'worktrees');
process.env.AUTORESEARCH_WORKTREES = worktrees;
delete process.env.XDG_STATE_HOME;
process.once('exit', () => {
  if (!process.env.AUTORESEARCH_KEEP_TMP) fs.rmSync(scratch, { recursive: true, force: true });
});
