/**
 * pipeline: true with the real claude / codex / gemini CLIs against the scripted model server:
 * iteration 2's turn really runs in the draft worktree (`<worktree>@draft`, branch
 * `<branch>@draft`) while iteration 1 is measured, and is taken as its candidate (re-applied
 * onto 1's keep), its git confined like any turn's; a drafting CLI out of quota writes no row
 * and stops the run (`on_exhaustion: stop`); a draft that no longer applies is a stale_base
 * discard; a SIGTERM while a CLI drafts leaves none of its processes behind. The scripted
 * model's one tool call runs edit.sh (below), which edits according to the worktree it runs
 * in and says where it ran.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { environOf, isSameAlive, procInfo, runningProcesses, waitUntil } from '../fault/helpers/procs.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { git, makeTempDir } from '../helpers/git-repo.js';
import { CLIS, PINNED, realCliAvailable, type CliName } from './cli-env.js';
import { startModelServer, type ModelServer } from './model-server.mjs';
import { iterationRows, realExperiment, type RealExperiment } from './real-experiment.js';

const TIMEOUT = 180_000;
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer();
});
afterAll(async () => {
  await server?.close();
});
// A run a failed test left behind.
const started: RunningCli[] = [];
afterEach(() => {
  for (const run of started.splice(0)) run.process.kill('SIGKILL');
});

/** Only a pipelined draft's prompt says this (src/loop/prompt.ts). */
const DRAFT_PROMPT = 'is still being evaluated';

/** What the agent does in a draft worktree: an edit that re-applies onto `value = 2`, one that conflicts with it, or a tool call that never ends (saying its pid). */
const DRAFT_EDITS = {
  bonus: "sed -i 's/^bonus = .*/bonus = 1/' bonus.txt; message='bonus = 1 (drafted)'",
  conflict: "sed -i 's/^value = .*/value = 3/' target.txt; message='value = 3 (drafted)'",
  hang: 'echo $$ > "$MARKS/hang.tmp"; mv "$MARKS/hang.tmp" "$MARKS/hang"; exec sleep 300',
} as const;

/**
 * A pipelined experiment of `cli` on target.txt and bonus.txt (score: 10, plus one point each
 * for `value = 2` and `bonus = 1`). In the experiment's worktree the agent sets `value = 2`, in a
 * draft worktree it does what `draft` says (default `bonus`); each commits, tries to tag (a
 * user ref: refused), and writes marks/<turn|draft>: its working directory, its branch, and
 * what came of the commit and the tag.
 * With `waitForDraft`, iteration 1's evaluation waits (at most 60 s) until the draft's edit is
 * made, and says so in marks/eval1. `quotaWhenBodyIncludes`: see model-server.mjs.
 */
async function pipelined(
  cli: CliName,
  scenario: string,
  opts: { waitForDraft: boolean; draft?: keyof typeof DRAFT_EDITS; quotaWhenBodyIncludes?: string; config?: Record<string, string> },
): Promise<{ e: RealExperiment; marks: string }> {
  const marks = await makeTempDir('ar-pipeline-marks-');
  await fs.writeFile(
    path.join(marks, 'edit.sh'),
    [
      `MARKS=${marks}`,
      'where=$(pwd -P)',
      'case "$where" in',
      `  *@draft) role=draft; ${DRAFT_EDITS[opts.draft ?? 'bonus']} ;;`,
      "  *) role=turn; sed -i 's/^value = .*/value = 2/' target.txt; message='value = 2' ;;",
      'esac',
      // Committed as the prompt asks (its branch may move), and a user ref tried (refused).
      'if git commit -qam "$message"; then commit=made; else commit=failed; fi',
      'if git tag agent-tag 2>/dev/null; then tag=created; else tag=refused; fi',
      `printf '%s\\n%s\\ncommit %s, tag %s\\n' "$where" "$(git rev-parse --abbrev-ref HEAD)" "$commit" "$tag" > "$MARKS/$role.tmp"`,
      'mv "$MARKS/$role.tmp" "$MARKS/$role"',
    ].join('\n') + '\n',
  );
  await fs.writeFile(
    path.join(marks, 'eval.sh'),
    [
      `if [ "$AUTORESEARCH_ITERATION" = 1 ] && ${opts.waitForDraft}; then`,
      `  echo started > ${marks}/eval1`,
      '  i=0',
      `  while [ ! -f ${marks}/draft ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done`,
      `  [ -f ${marks}/draft ] && echo "draft edited" >> ${marks}/eval1`,
      'fi',
      `echo "score: $(( 10 + $(grep -c 'value = 2' target.txt) + $(grep -c 'bonus = 1' bonus.txt) ))"`,
    ].join('\n') + '\n',
  );
  server.script(scenario, { command: `sh ${marks}/edit.sh`, quotaWhenBodyIncludes: opts.quotaWhenBodyIncludes });
  const e = await realExperiment(server, cli, scenario, {
    files: { 'bonus.txt': 'bonus = 0\n' },
    config: { target: 'target.txt, bonus.txt', evaluate_cmd: `sh ${marks}/eval.sh`, time_budget: '90s', pipeline: 'true', ...opts.config },
  });
  return { e, marks };
}

/** The user's checkout: HEAD, its status, and every ref but the experiment's own. */
async function userCheckout(e: RealExperiment, branch: string): Promise<Record<string, string>> {
  const ours = new Set([`refs/heads/${branch}`, `refs/heads/${branch}@draft`]);
  const refs = (await git(e.root, 'for-each-ref', '--format=%(refname) %(objectname)'))
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('refs/autoresearch/') && !ours.has(line.split(' ')[0] ?? ''));
  return {
    head: await git(e.root, 'rev-parse', 'HEAD'),
    symbolic: await git(e.root, 'symbolic-ref', 'HEAD'),
    status: await git(e.root, 'status', '--porcelain'),
    refs: refs.join('\n'),
  };
}

const COSTS = ['agent', 'cost_usd', 'tokens_in', 'tokens_out'] as const;

describe.each(CLIS.filter((c) => realCliAvailable(c)))('pipeline: true with the real %s', (cli) => {
  it(`${cli} ${PINNED[cli]}: iteration 2 is drafted in <worktree>@draft while 1 is measured, re-applied onto 1's keep and evaluated`, { timeout: TIMEOUT }, async () => {
    const { e, marks } = await pipelined(cli, 'pipe-edit', { waitForDraft: true });
    const state = await e.state();
    const worktree = await fs.realpath(String(state.worktree));
    const branch = String(state.branch);
    const before = await userCheckout(e, branch);

    const r = await e.run(true, ['--max-experiments', '2']);
    expect(r.exitCode, r.stderr).toBe(0);

    // Iteration 1's evaluation lasted until the drafting CLI had made its edit.
    expect(await fs.readFile(path.join(marks, 'eval1'), 'utf8')).toBe('started\ndraft edited\n');
    // Each turn's CLI ran where it should, 1 in the experiment's worktree and 2 in the draft's,
    // and its git could commit on its own branch but not tag (a user ref).
    expect(await fs.readFile(path.join(marks, 'turn'), 'utf8')).toBe(`${worktree}\n${branch}\ncommit made, tag refused\n`);
    expect(await fs.readFile(path.join(marks, 'draft'), 'utf8')).toBe(`${worktree}@draft\n${branch}@draft\ncommit made, tag refused\n`);
    // Only the draft's prompt said an iteration was being evaluated.
    expect(await fs.readFile(path.join(e.expDir, 'runs', '00002', 'prompt.md'), 'utf8')).toMatch(/## Iteration 1 is still being evaluated/);
    expect(await fs.readFile(path.join(e.expDir, 'runs', '00001', 'prompt.md'), 'utf8')).not.toContain(DRAFT_PROMPT);

    // One row per iteration, in order; the drafted one is the CLI's like the one before it.
    const rows = await e.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric, row.description])).toEqual([
      ['0', 'keep', 'baseline', '10.000000', 'baseline'],
      ['1', 'keep', 'improved', '11.000000', 'value = 2'],
      ['2', 'keep', 'improved', '12.000000', 'bonus = 1 (drafted)'],
    ]);
    const [own, drafted] = await iterationRows(e);
    console.log(`[real-agents] ${cli} rows' ${COSTS.join(', ')}: ${[own, drafted].map((row) => COSTS.map((c) => row?.[c]).join(' ')).join(' | ')}`);
    for (const column of COSTS) expect([column, drafted?.[column]]).toEqual([column, own?.[column]]);
    expect(drafted?.agent).toBe(cli);
    expect(Number(drafted?.tokens_in)).toBeGreaterThan(0);
    if (cli === 'claude') expect(Number(drafted?.cost_usd)).toBeGreaterThan(0);

    // The draft branch holds the change as drafted (on the baseline); the row's commit is it
    // re-applied onto iteration 1's keep.
    const baseline = rows[0]?.commit ?? '';
    expect(await git(e.root, 'show', `${branch}@draft:bonus.txt`)).toBe('bonus = 1');
    expect(await git(e.root, 'log', '-1', '--format=%s', `${branch}@draft`)).toBe('bonus = 1 (drafted)');
    expect(await git(e.root, 'rev-parse', `${branch}@draft^`)).toBe(await git(e.root, 'rev-parse', baseline));
    expect(await git(e.root, 'rev-parse', `${drafted?.commit}^`)).toBe(await git(e.root, 'rev-parse', own?.commit ?? ''));
    expect(await git(e.root, 'rev-parse', String(drafted?.commit))).not.toBe(await git(e.root, 'rev-parse', `${branch}@draft`));
    expect(await git(e.root, 'show', `${branch}:target.txt`)).toBe('value = 2');
    expect(await git(e.root, 'show', `${branch}:bonus.txt`)).toBe('bonus = 1');

    // The user's checkout and refs: untouched.
    expect(await userCheckout(e, branch)).toEqual(before);
    expect(await fs.readFile(path.join(e.root, 'target.txt'), 'utf8')).toBe('value = 1\n');
    expect((await e.state()).draft ?? null).toBeNull();
  });

  it(`${cli}: a drafting CLI out of quota writes no row; on_exhaustion: stop exits 2`, { timeout: TIMEOUT }, async () => {
    // Only the draft's turn (its prompt says iteration 1 is being evaluated) is out of quota.
    const { e, marks } = await pipelined(cli, 'pipe-quota', { waitForDraft: false, quotaWhenBodyIncludes: DRAFT_PROMPT, config: { on_exhaustion: 'stop' } });
    const before = server.log.length;
    const r = await e.run(true, ['--max-experiments', '3']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/usage exhausted/);
    const quotaReplies = server.log.slice(before).filter((q) => q.scenario === 'pipe-quota' && q.status === 429);
    expect(quotaReplies.length, `the drafting ${cli} met the quota error`).toBeGreaterThan(0);
    expect((await iterationRows(e)).map((row) => [row.iteration, row.status, row.metric, row.agent])).toEqual([['1', 'keep', '11.000000', cli]]);
    // Iteration 1's own turn made its edit; the draft never got to its tool call.
    expect((await fs.readFile(path.join(marks, 'turn'), 'utf8')).split('\n')[0]).toBe(await fs.realpath(String((await e.state()).worktree)));
    await expect(fs.stat(path.join(marks, 'draft'))).rejects.toThrow();
    const status = await e.status();
    expect(status.state).toBe('waiting');
    expect(Date.parse(String(status.wait_until))).toBeGreaterThan(Date.now());
    expect(status.consecutive_crashes ?? 0).toBe(0);
    expect((await e.state()).draft ?? null).toBeNull();
  });
});

describe.skipIf(!realCliAvailable('codex'))('pipeline: true with the real codex, a draft that no longer applies', () => {
  it("iteration 2, drafted on the baseline, conflicts with 1's keep: a stale_base discard kept under refs/autoresearch/<id>/2, and the next turn is told", { timeout: TIMEOUT }, async () => {
    const { e } = await pipelined('codex', 'pipe-stale', { waitForDraft: true, draft: 'conflict' });
    const r = await e.run(true, ['--max-experiments', '3']);
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await e.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric, row.agent])).toEqual([
      ['0', 'keep', 'baseline', '10.000000', rows[0]?.agent],
      ['1', 'keep', 'improved', '11.000000', 'codex'],
      ['2', 'discard', 'stale_base', 'N/A', 'codex'],
      // Its own turn, on 1's keep: the same edit again, nothing to change.
      ['3', 'discard', 'no_change', 'N/A', 'codex'],
    ]);
    expect(rows[2]?.detail).toMatch(/^stale_base: drafted on [0-9a-f]{7} while an earlier candidate was evaluated; the best is now [0-9a-f]{7} \(#1\)/);
    expect(await git(e.root, 'show', `refs/autoresearch/${e.id}/2:target.txt`)).toBe('value = 3');
    expect(await fs.readFile(path.join(e.expDir, 'runs', '00003', 'prompt.md'), 'utf8')).toMatch(/## Your last change was not evaluated: iteration 2/);
  });
});

describe.each(CLIS.filter((c) => realCliAvailable(c)))('pipeline: true with the real %s, stopped while it drafts', (cli) => {
  it(`${cli}: SIGTERM while its tool call runs in the draft worktree: the CLI and everything it started die, no row for the draft, exit 0`, { timeout: TIMEOUT }, async () => {
    const { e, marks } = await pipelined(cli, 'pipe-hang', { waitForDraft: false, draft: 'hang' });
    const draftWorktree = `${String((await e.state()).worktree)}@draft`;
    const run = startCli(['--path', e.root, 'run', e.id], { env: e.env });
    started.push(run);
    const hang = await waitUntil('the draft\'s tool call', async () => {
      const pid = Number((await fs.readFile(path.join(marks, 'hang'), 'utf8').catch(() => '')).trim());
      return pid > 0 ? procInfo(pid) : undefined;
    }, 90_000, 50);
    // Everything the draft's turn started that still says where it runs (the CLI, its shells).
    const drafting = runningProcesses().filter((p) => environOf(p.pid)?.get('AUTORESEARCH_WORKTREE') === draftWorktree);
    expect(drafting.map((p) => p.pid)).toContain(hang.pid);
    expect(drafting.filter((p) => p.cmdline.includes(`/${cli}`)).length, drafting.map((p) => p.cmdline).join('\n')).toBeGreaterThan(0);
    process.kill(run.pid, 'SIGTERM');
    expect((await run.result()).exitCode, run.output()).toBe(0);
    const alive = [hang, ...drafting].filter((p) => isSameAlive(p.pid, p.startTime));
    expect(alive.map((p) => `${p.pid} ${p.cmdline}`), run.output()).toEqual([]);
    expect((await iterationRows(e)).map((row) => [row.iteration, row.status])).toEqual([['1', 'keep']]);
    expect((await e.state()).draft ?? null).toBeNull();
  });
});
