/**
 * pipeline: true in the daemon (issue 13): a fair turn (another experiment waits for one of
 * --concurrency) hands its ready draft over to the experiment's next turn, so no agent call is
 * thrown away, and the other experiment still gets its turns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil, type DaemonProject } from './helpers.js';

describe.skipIf(process.platform !== 'linux')('the daemon with a pipelined experiment, --concurrency 1', () => {
  let project: DaemonProject | undefined;
  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('alternates turns with the other experiment, evaluates every drafted candidate, and writes rows in order', async () => {
    project = await makeDaemonProject([]);
    // A constant metric: every candidate is a discarded tie, so every draft applies as it is.
    const common = { agent: 'echo "$AUTORESEARCH_ITERATION" > value.txt', evaluate_cmd: `sleep 0.3; echo ${project.tag} >/dev/null; echo "score: 5"` };
    project.writeConfig('exp/piped', { extra: { ...common, pipeline: 'true' } });
    project.writeConfig('exp/plain', { extra: common });
    await startDaemon(project, ['--concurrency', '1']);
    const p = project;
    const enough = () => p.rows('exp/piped').length >= 6 && p.rows('exp/plain').length >= 4;
    await waitUntil(enough, 'rows from both experiments', 90_000, () => `piped ${p.rows('exp/piped').length}, plain ${p.rows('exp/plain').length}\n${daemonLog(p)}`);
    for (const id of ['exp/piped', 'exp/plain']) {
      const rows = p.rows(id);
      expect(rows.map((r) => r.iteration)).toEqual(rows.map((_, i) => i));
      expect(rows.slice(1).every((r) => r.status === 'discard' && r.reason === 'no_improvement')).toBe(true);
    }
    // A turn ends with its draft ready and handed over: every candidate after the baseline was
    // drafted while the one before it was evaluated, across turns too.
    const prompt = (n: number) => fs.readFileSync(path.join(p.dir('exp/piped'), 'runs', String(n).padStart(5, '0'), 'prompt.md'), 'utf8');
    const notDrafted = p.rows('exp/piped').slice(1).filter((r) => !prompt(r.iteration).includes(`## Iteration ${r.iteration - 1} is still being evaluated`));
    expect(notDrafted.map((r) => r.iteration)).toEqual([]);
    // Turns changed hands, and no drafted candidate was thrown away for it.
    expect(daemonLog(p)).not.toMatch(/draft of iteration \d+ discarded/);
  });
});
