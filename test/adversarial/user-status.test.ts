/**
 * Adversarial: what a user sees while a foreground `run` waits out a quota. `status` must
 * say `waiting` with the reset time (as the daemon does for its own waits), not `running`.
 */
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe('adversarial: status of a foreground run waiting out a quota', () => {
  it('shows waiting with wait_until and the run pid, as the run itself reports', async () => {
    const reset = Math.floor(Date.now() / 1000) + 1800;
    const project = await makeProject({ plan: [`echo 4 > value.txt; echo "Claude AI usage limit reached|${reset}"; exit 1`] });
    const run = startCli(['--path', project.root, 'run', project.id], { env: { ...project.env, TZ: 'UTC' } });
    try {
      await run.waitFor(/waiting until/);
      const r = await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env });
      expect(r.exitCode, r.stderr).toBe(0);
      const parsed = JSON.parse(r.stdout) as unknown;
      const shown = (Array.isArray(parsed) ? parsed[0] : parsed) as { state: string; wait_until: string | null; pid: number | null; reason: string | null };
      expect(shown.state).toBe('waiting');
      // The reset time the agent printed (plus the loop's safety margin).
      const until = Date.parse(shown.wait_until ?? '');
      expect(until).toBeGreaterThanOrEqual(reset * 1000);
      expect(until).toBeLessThan(reset * 1000 + 15 * 60_000);
      // The same moment, as a person reads it: local time (UTC here), the zone named.
      const iso = shown.wait_until ?? '';
      expect(run.output()).toContain(`waiting until ${iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 19)} UTC`);
      expect(shown.pid).toBe(run.pid);
      expect(shown.reason).toMatch(/usage limit/);
      const table = await runCli(['--path', project.root, 'status'], { env: project.env });
      expect(table.stdout).toMatch(/waiting/);
      expect(table.stdout).not.toMatch(/\brunning\b/);
      process.kill(run.pid, 'SIGTERM');
      expect((await run.result()).exitCode).toBe(0);
    } finally {
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        // exited
      }
    }
  });
});
