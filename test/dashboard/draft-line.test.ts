/**
 * pipeline: true: a draft in progress, then ready, as `status` (text and --json) and the
 * dashboard show it, from the state a real pipelined `run` writes: iteration 1 is held in its
 * evaluation (a gate file) while the agent of iteration 2 drafts, itself held by another gate.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { waitUntil } from '../daemon/helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, type Browser } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;

let browser: Browser | undefined;
beforeAll(async () => {
  if (CHROMIUM_AVAILABLE) browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface DraftJson {
  iteration: number;
  phase: string;
  base: string;
  commit: string | null;
  started_at: string | null;
}

describe.skipIf(process.platform !== 'linux')('a draft in progress (pipeline: true)', () => {
  it('status and the dashboard show the drafting agent with its elapsed time, then the ready draft, then none', async () => {
    const gates = await makeTempDir('ar-draft-gates-');
    const evalGate = path.join(gates, 'eval');
    const agentGate = path.join(gates, 'agent');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        max_experiments: '2',
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then while [ ! -f ${evalGate} ]; do sleep 0.05; done; fi; sh evaluate.sh`,
      },
      // 1 is worse (a discard, so 2's draft applies as it is); 2's agent waits for its gate.
      plan: ['echo 20 > value.txt', `while [ ! -f ${agentGate} ]; do sleep 0.05; done; echo 4 > value.txt`],
    });
    const stateFile = path.join(project.expDir, 'state.json');
    const draftOnDisk = async () => ((JSON.parse(await fs.readFile(stateFile, 'utf8').catch(() => '{}')) as { draft?: { iteration: number; child: unknown; ready?: string } | null }).draft ?? null);
    const status = async () => {
      const r = await runCli(['--path', project.root, 'status', '--json'], { env: project.env });
      expect(r.exitCode).toBe(0);
      const [only] = JSON.parse(r.stdout) as Array<{ state: string; iteration: number | null; phase: string | null; draft: DraftJson | null }>;
      if (only === undefined) throw new Error(`status --json listed no experiment: ${r.stdout}`);
      return only;
    };
    const text = async () => (await runCli(['--path', project.root, 'status'], { env: project.env })).stdout;
    const page = path.join(gates, 'page.html');
    const dashboard = async () => {
      expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
      const html = await fs.readFile(page, 'utf8');
      const data = JSON.parse(/<script id="dashboard-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null') as { experiments: Array<{ draft: DraftJson | null }> };
      return data.experiments[0]?.draft ?? null;
    };
    const draftLine = async () => {
      if (browser === undefined) return undefined; // browser.ts said loudly why
      const p = await browser.page();
      try {
        await p.page.goto(pathToFileURL(page).href);
        await p.page.waitForSelector('html[data-rendered]');
        const line = await p.page.evaluate(() => {
          const el = document.querySelector('.draft');
          return el === null ? null : { phase: el.getAttribute('data-draft'), text: el.textContent };
        });
        if (line?.phase === 'agent') {
          // The elapsed time ticks in the page, as the running phase's does.
          const before = await p.page.textContent('.draft .elapsed');
          await p.page.waitForFunction((t) => document.querySelector('.draft .elapsed').textContent !== t, before, { timeout: 10_000 });
        }
        expect(p.errors).toEqual([]);
        return line;
      } finally {
        await p.page.close();
      }
    };

    const cli = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    try {
      // The agent of 2 drafts (its process recorded) while 1 is evaluated.
      // (Iteration 1 was drafted too, during the baseline: only 2's draft is the one to wait for.)
      await waitUntil(async () => { const draft = await draftOnDisk(); return draft?.iteration === 2 && draft.child != null; }, 'the drafting agent of iteration 2 to be recorded in state.json', 30_000, () => cli.output());
      const drafting = await status();
      expect(drafting).toMatchObject({ state: 'running', iteration: 1, phase: 'eval' });
      expect(drafting.draft).toMatchObject({ iteration: 2, phase: 'agent', commit: null });
      expect(Date.parse(drafting.draft?.started_at ?? '')).toBeGreaterThan(0);
      expect(drafting.draft?.base).toMatch(/^[0-9a-f]{40}$/);
      expect(await text()).toMatch(/^test\/exp: drafting iteration 2 \(agent, \d+s\)$/m);
      expect(await dashboard()).toEqual(drafting.draft);
      const agentLine = await draftLine();
      if (agentLine !== undefined) expect(agentLine).toEqual({ phase: 'agent', text: expect.stringMatching(/^drafting #2 \(agent · \d+s\)$/) });

      // Its turn over, the candidate captured: ready, named in state.json until 2 takes it.
      await fs.writeFile(agentGate, '');
      await waitUntil(async () => { const draft = await draftOnDisk(); return draft?.iteration === 2 && draft.ready !== undefined; }, 'the draft of iteration 2 to be ready', 30_000, () => cli.output());
      const ready = (await draftOnDisk())?.ready ?? '';
      const readyStatus = await status();
      expect(readyStatus).toMatchObject({ state: 'running', iteration: 1, phase: 'eval' });
      expect(readyStatus.draft).toMatchObject({ iteration: 2, phase: 'ready', commit: ready, base: drafting.draft?.base });
      expect(await text()).toMatch(new RegExp(`^test/exp: iteration 2 drafted, ready \\(${ready.slice(0, 7)}\\)$`, 'm'));
      expect(await dashboard()).toEqual(readyStatus.draft);
      const readyLine = await draftLine();
      if (readyLine !== undefined) expect(readyLine).toEqual({ phase: 'ready', text: `#2 drafted, ready (${ready.slice(0, 7)})` });

      // Taken and evaluated: no draft any more.
      await fs.writeFile(evalGate, '');
      expect((await cli.result()).exitCode).toBe(0);
      expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'no_improvement', 'improved']);
      expect((await status()).draft).toBeNull();
      expect(await text()).not.toContain('draft');
      expect(await dashboard()).toBeNull();
      const afterLine = await draftLine();
      if (afterLine !== undefined) expect(afterLine).toBeNull();
    } finally {
      await fs.writeFile(evalGate, '');
      await fs.writeFile(agentGate, '');
      await cli.result();
    }
  });
});
