/**
 * pipeline: true in the daemon under contention (issue 13): more experiments than
 * --concurrency, so every turn ends with a fair yield. A draft ready when the turn yields is
 * handed over to the experiment's next turn (state.json `draft.ready`), so every iteration
 * after the baseline is drafted, while --concurrency still bounds the agents too: no agent of
 * an experiment runs while another one holds the only turn.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { EVAL_SH, apiStatus, daemonLog, killDaemons, makeDaemonProject, readSlotLog, startDaemon, waitUntil, type DaemonProject } from './helpers.js';

describe.skipIf(process.platform !== 'linux')('pipelined experiments taking turns (three experiments, --concurrency 1)', () => {
  let project: DaemonProject | undefined;
  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('drafts every iteration after the baseline, runs no agent outside its turn, and writes rows in order', async () => {
    project = await makeDaemonProject([]);
    const p = project;
    const ids = ['exp/a', 'exp/b', 'exp/c'];
    const agents = path.join(await makeTempDir('ar-contention-'), 'agents.log');
    // A constant metric: every candidate is a discarded tie, so every draft applies as it is.
    // exp/c's agent outlasts the evaluation: its turn waits for the draft before yielding.
    const agent = (seconds: string) => `start=$(date +%s%3N); sleep ${seconds}; echo "$AUTORESEARCH_ITERATION" > value.txt; echo "- - $start $(date +%s%3N) $AUTORESEARCH_EXPERIMENT" >> ${agents}`;
    for (const id of ids) p.writeConfig(id, { extra: { agent: agent(id === 'exp/c' ? '1' : '0.2'), evaluate_cmd: `sh ${EVAL_SH} 0.6 ${p.tag} 5`, pipeline: 'true' } });
    await startDaemon(p, ['--concurrency', '1']);
    await waitUntil(() => ids.every((id) => p.rows(id).length >= 7), 'seven rows from every experiment', 120_000, () => `${ids.map((id) => `${id} ${p.rows(id).length}`).join(', ')}\n${daemonLog(p)}`);
    await killDaemons([p.tag]);

    const log = ids.map((id) => fs.readFileSync(path.join(p.dir(id), 'autoresearch.log'), 'utf8')).join('');
    const prompt = (id: string, n: number) => fs.readFileSync(path.join(p.dir(id), 'runs', String(n).padStart(5, '0'), 'prompt.md'), 'utf8');
    for (const id of ids) {
      const rows = p.rows(id); // strictly 0, 1, 2… (readLedger throws otherwise)
      expect(rows.slice(1).every((r) => r.status === 'discard' && r.reason === 'no_improvement')).toBe(true);
      // Drafted: its agent ran while the iteration before it was evaluated.
      const notDrafted = rows.slice(1).filter((r) => !prompt(id, r.iteration).includes(`## Iteration ${r.iteration - 1} is still being evaluated`));
      expect(notDrafted.map((r) => r.iteration), `${id}: iterations whose agent ran on its own\n${log}`).toEqual([]);
    }
    // Turns changed hands with a ready draft each time, and none was thrown away for it (the
    // daemon's stop at the end abandons a turn's draft: "the run ended before its iteration").
    expect(log).toMatch(/draft of iteration \d+ kept: ready when the turn ended/);
    expect(log.split('\n').filter((line) => /draft of iteration \d+ discarded/.test(line) && !line.includes('the run ended before its iteration'))).toEqual([]);
    expect(log).not.toMatch(/its draft \(pipeline\) was interrupted/);
    // --concurrency 1 bounds what an experiment runs, agents as well as evaluations: the
    // activity (agent turns, evaluations) of two experiments never overlaps.
    const activity = [...readSlotLog(p.slotLog), ...readSlotLog(agents)];
    expect(activity.length).toBeGreaterThanOrEqual(ids.length * 13);
    const overlaps = activity.flatMap((x, i) => activity.slice(i + 1).filter((y) => x.id !== y.id && x.start < y.end && y.start < x.end).map((y) => `${x.id} ${x.start}-${x.end} and ${y.id} ${y.start}-${y.end}`));
    expect(overlaps).toEqual([]);
  });
});

type Draft = { iteration: number; base: string; child?: unknown; ready?: string } | null;

/**
 * exp/a and exp/b, pipelined, --concurrency 1; exp/b, from its iteration 1, holds the only turn
 * in its evaluation (until `gate` exists) while its agent drafts 2 (held by the same gate), so
 * exp/a waits for its turn with the draft its last turn handed over.
 */
async function holdTurnWithKeptDraft(p: DaemonProject) {
  const marks = await makeTempDir('ar-kept-draft-');
  const gate = path.join(marks, 'gate');
  const configOfA = (evalSeconds: string) => ({ extra: { agent: 'echo "$AUTORESEARCH_ITERATION" > value.txt', evaluate_cmd: `sh ${EVAL_SH} ${evalSeconds} ${p.tag} 5`, pipeline: 'true' } });
  p.writeConfig('exp/a', configOfA('0.2'));
  p.writeConfig('exp/b', {
    extra: {
      agent: `if [ "$AUTORESEARCH_ITERATION" -ge 2 ]; then while [ ! -f ${gate} ]; do sleep 0.05; done; fi; echo "$AUTORESEARCH_ITERATION" > value.txt`,
      evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" -ge 1 ]; then touch ${marks}/b-eval; while [ ! -f ${gate} ]; do sleep 0.05; done; fi; sh ${EVAL_SH} 0.2 ${p.tag} 5`,
      pipeline: 'true',
    },
  });
  const draftOf = (id: string): Draft => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(p.dir(id), 'state.json'), 'utf8')) as { draft?: Draft }).draft ?? null;
    } catch {
      return null; // not written yet
    }
  };
  const logOf = (id: string) => fs.readFileSync(path.join(p.dir(id), 'autoresearch.log'), 'utf8');
  const info = await startDaemon(p, ['--concurrency', '1']);
  await waitUntil(() => fs.existsSync(path.join(marks, 'b-eval')) && draftOf('exp/b')?.child != null && draftOf('exp/a')?.ready !== undefined, 'exp/b to hold the turn, drafting, while exp/a waits with a ready draft', 60_000, () => daemonLog(p));
  const kept = draftOf('exp/a');
  const nextOfA = p.rows('exp/a').length;
  expect(kept?.iteration).toBe(nextOfA);
  expect(logOf('exp/a')).toContain(`draft of iteration ${nextOfA} kept: ready when the turn ended`);
  return { gate, info, kept, nextOfA, draftOf, logOf, configOfA };
}

describe.skipIf(process.platform !== 'linux')('a draft kept between turns (two experiments, --concurrency 1)', () => {
  let project: DaemonProject | undefined;
  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('status shows it ready while the experiment waits for its turn; a stop leaves it named, and the next start keeps its change and goes on', async () => {
    project = await makeDaemonProject([]);
    const p = project;
    const { gate, info, kept, nextOfA, draftOf, logOf } = await holdTurnWithKeptDraft(p);

    // The daemon's API, `status` through it, and the dashboard's data.
    type Shown = { id: string; state: string; phase: string | null; draft: { iteration: number; phase: string; commit: string | null; base: string } | null };
    // The daemon's status is refreshed every second: waited for, then compared.
    let shown: Shown[] = [];
    const stable = async () => {
      shown = (await apiStatus(info)).experiments as unknown as Shown[];
      const [a, b] = ['exp/a', 'exp/b'].map((id) => shown.find((e) => e.id === id));
      return a?.draft?.iteration === nextOfA && b?.draft?.iteration === 2 && b.state === 'running';
    };
    await waitUntil(stable, "the daemon's status to show both drafts", 10_000, () => JSON.stringify(shown, null, 1));
    const a = shown.find((e) => e.id === 'exp/a');
    const b = shown.find((e) => e.id === 'exp/b');
    expect(a).toMatchObject({ state: 'idle', draft: { iteration: nextOfA, phase: 'ready', commit: kept?.ready, base: kept?.base } });
    expect(b).toMatchObject({ state: 'running', phase: 'eval', draft: { iteration: 2, phase: 'agent', commit: null } });
    const text = (await runCli(['--path', p.root, 'status'], { env: p.env })).stdout;
    expect(text).toMatch(new RegExp(`^exp/a: iteration ${nextOfA} drafted, ready \\(${kept?.ready?.slice(0, 7)}\\)$`, 'm'));
    expect(text).toMatch(/^exp\/b: drafting iteration 2 \(agent, \d+s\)$/m);
    // The dashboard's data is rebuilt every 2 s: waited for too.
    let onDashboard: Shown[] = [];
    await waitUntil(
      async () => {
        onDashboard = ((await (await fetch(`http://127.0.0.1:${info.port}/api/dashboard`)).json()) as { experiments: Shown[] }).experiments;
        return onDashboard.find((e) => e.id === 'exp/b')?.draft?.iteration === 2;
      },
      'the dashboard to show the drafts',
      10_000,
      () => JSON.stringify(onDashboard.map((e) => [e.id, e.draft])),
    );
    expect(onDashboard.find((e) => e.id === 'exp/a')?.draft).toEqual(a?.draft);
    expect(onDashboard.find((e) => e.id === 'exp/b')?.draft).toMatchObject({ iteration: 2, phase: 'agent' });

    // A stop aborts exp/b's iteration and abandons its draft; exp/a's draft has no process and
    // stays named in state.json, as after a kill.
    expect((await runCli(['--path', p.root, 'daemon', 'stop'], { env: p.env })).exitCode).toBe(0);
    expect(draftOf('exp/b')).toBeNull();
    expect(draftOf('exp/a')).toEqual(kept);
    const [afterStop] = JSON.parse((await runCli(['--path', p.root, 'status', 'exp/a', '--json'], { env: p.env })).stdout) as Shown[];
    expect(afterStop).toMatchObject({ state: 'idle', draft: { iteration: nextOfA, phase: 'ready', commit: kept?.ready } });

    // The next start keeps its change reachable and forgets it (no row); iterations go on in order.
    fs.writeFileSync(gate, '');
    await startDaemon(p, ['--concurrency', '1']);
    await waitUntil(() => p.rows('exp/a').length >= nextOfA + 2, `exp/a to write iterations ${nextOfA} and ${nextOfA + 1}`, 60_000, () => daemonLog(p));
    expect(logOf('exp/a')).toMatch(new RegExp(`recovered iteration ${nextOfA}: rolled-back \\(its draft \\(pipeline\\) was interrupted before its iteration took it; no row; its change kept as refs/autoresearch/exp/a/interrupted/${nextOfA}-\\d+`));
    const ref = new RegExp(`refs/autoresearch/exp/a/interrupted/${nextOfA}-\\d+`).exec(logOf('exp/a'))?.[0] ?? '';
    expect((await execa('git', ['-C', p.root, 'rev-parse', ref])).stdout).toBe(kept?.ready);
    await killDaemons([p.tag]);
  });
  it('a config edit while it waits for its turn: the draft (made under the old config) is not taken; its change is kept and the iteration runs its agent afresh', async () => {
    project = await makeDaemonProject([]);
    const p = project;
    const { gate, kept, nextOfA, logOf, configOfA } = await holdTurnWithKeptDraft(p);
    p.writeConfig('exp/a', configOfA('0.25'));
    await waitUntil(() => logOf('exp/a').includes('config changed: applies from the next iteration'), 'the daemon to take the edit of exp/a', 30_000, () => daemonLog(p));
    fs.writeFileSync(gate, '');
    await waitUntil(() => p.rows('exp/a').length > nextOfA, `exp/a to write iteration ${nextOfA}`, 60_000, () => daemonLog(p));
    expect(logOf('exp/a')).toMatch(new RegExp(`recovered iteration ${nextOfA}: rolled-back \\(its draft \\(pipeline\\) was interrupted before its iteration took it; no row; its change kept as refs/autoresearch/exp/a/interrupted/${nextOfA}-\\d+`));
    const ref = new RegExp(`refs/autoresearch/exp/a/interrupted/${nextOfA}-\\d+`).exec(logOf('exp/a'))?.[0] ?? '';
    expect((await execa('git', ['-C', p.root, 'rev-parse', ref])).stdout).toBe(kept?.ready);
    const prompt = fs.readFileSync(path.join(p.dir('exp/a'), 'runs', String(nextOfA).padStart(5, '0'), 'prompt.md'), 'utf8');
    expect(prompt).not.toContain('is still being evaluated');
    await killDaemons([p.tag]);
  });
});
