/**
 * Warnings before a wasted night (issue 10, SPEC §5), from the CLI against real repos: a
 * dirty checkout the experiment will not see, a keep that looks like a broken evaluation,
 * and a bad `metric_kind`. Warnings never block and never change a decision.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { git, snapshotTree, writeFiles } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { waitUntil } from '../daemon/helpers.js';

/** The user's checkout as bytes: every file outside .autoresearch, the index, and what git status says. */
async function checkoutState(root: string): Promise<{ files: [string, string][]; index: string; status: string }> {
  const files = [...(await snapshotTree(root))].filter(([p]) => !p.startsWith('.autoresearch'));
  const index = (await fs.readFile(path.join(root, '.git', 'index'))).toString('base64');
  const status = (await git(root, 'status', '--porcelain', '--untracked-files=all')).split('\n').filter((l) => !l.includes('.autoresearch/'));
  return { files, index, status: status.join('\n') };
}

/** What stderr says, one message per line: a JSON log line's `msg`, or the line as printed. */
function messages(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => {
      try {
        return String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
      } catch {
        return line;
      }
    })
    .join('\n');
}

describe('uncommitted changes in the checkout', () => {
  it('run warns, naming the changed paths (in scope first) but not ignored ones, and leaves the checkout byte-identical', async () => {
    const project = await makeProject();
    await writeFiles(project.root, { 'other.txt': 'edited\n', 'notes.txt': 'untracked\n', 'ignored/cache.bin': 'ignored\n', 'value.txt': '3\n' });
    await git(project.root, 'add', 'other.txt'); // staged counts too
    const before = await checkoutState(project.root);

    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const warning = /your checkout has 3 uncommitted changes the experiment will not see \(it starts from HEAD [0-9a-f]{7}\): value\.txt \(in scope\), (notes\.txt, other\.txt|other\.txt, notes\.txt); commit them first if the experiment should see them/;
    expect(messages(r.stderr)).toMatch(warning);
    expect(r.stderr).not.toContain('ignored/');
    expect(r.stderr).not.toContain('.autoresearch');
    // The baseline measured HEAD (value 10), not the uncommitted 3: the warning was right.
    expect((await project.rows())[0]).toMatchObject({ status: 'keep', metric: '10.000000' });
    expect(await checkoutState(project.root)).toEqual(before);
  });

  it('run --dry-run says it too, and a clean checkout gets no warning', async () => {
    const project = await makeProject();
    const clean = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout + clean.stderr).not.toContain('uncommitted');

    await writeFiles(project.root, Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`new${i}.txt`, 'x\n'])));
    const before = await checkoutState(project.root);
    const dirty = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
    expect(dirty.exitCode).toBe(0);
    expect(dirty.stdout).toMatch(/warning: +your checkout has 7 uncommitted changes .*: new0\.txt, new1\.txt, new2\.txt, new3\.txt, new4\.txt and 2 more; commit them first/);
    expect(await checkoutState(project.root)).toEqual(before);
  });
});

describe('suspicious keeps', () => {
  it('a loss that lands on 0 after nan is still a keep, flagged `suspicious:` in its row, with a warning', async () => {
    const project = await makeProject({
      files: { 'evaluate.sh': 'v=$(cat value.txt)\nif [ "$v" = 0 ]; then echo "step 90 train loss: nan"; fi\necho "score: $v"\n' },
      plan: ['echo 7 > value.txt', 'echo 0 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.metric])).toEqual([['keep', '10.000000'], ['keep', '7.000000'], ['keep', '0.000000']]);

    const result = async (n: number) => JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', String(n).padStart(5, '0'), 'result.json'), 'utf8')) as { detail: string | null };
    expect((await result(1)).detail).toBeNull(); // 10 → 7 is an ordinary keep
    const detail = (await result(2)).detail;
    expect(detail).toBe(
      'suspicious: score improved by exactly 100% (7.000000 → 0.000000: landed on exactly 0); ' +
        'score is exactly 0 and the evaluation output shows `nan` near it ("step 90 train loss: nan"); check the evaluation output',
    );
    expect(messages(r.stderr)).toContain(`iteration 2 kept, but ${detail} (${path.join(project.expDir, 'runs', '00002', 'eval.log')})`);
    expect(messages(r.stderr)).not.toMatch(/iteration 1 kept, but/);
  });
});

describe('a timing metric while another run uses the machine', () => {
  it('run warns when another experiment of the project is running, and suggests --concurrency 1 or slots', async () => {
    const project = await makeProject({ config: { metric: 'p50_ms', evaluate_cmd: 'echo "p50_ms: $(cat value.txt)"' } });
    // A second experiment whose baseline evaluation runs until it is stopped.
    const slowDir = path.join(project.root, '.autoresearch', 'test', 'slow');
    await writeFiles(slowDir, { 'config.cfg': 'target: value.txt\nevaluate_cmd: sleep 600; echo "score: 1"\nmetric: score\nagent: none\ntime_budget: 10m\n' });
    const alone = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(alone.exitCode).toBe(0);
    expect(alone.stderr).not.toContain('looks like a timing');

    const slow = startCli(['--path', project.root, 'run', 'test/slow', '--single'], { env: project.env });
    try {
      // Its run.lock is what a starting run sees: wait for it (the state, not the output's wording).
      await waitUntil(() => fs.stat(path.join(slowDir, 'run.lock')).then(() => true, () => false), 'test/slow holds its run.lock');
      const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
      expect(r.exitCode).toBe(0); // a warning, never a refusal
      expect(messages(r.stderr)).toContain(
        `p50_ms looks like a timing (its name contains the word \`ms\`; set metric_kind: other if it is not a timing), and other experiments ` +
          `of this project run on this machine at the same time: test/slow (\`autoresearch --path ${project.root} run test/slow --single\` pid ${slow.pid})`,
      );
      expect(messages(r.stderr)).toMatch(/`autoresearch daemon start --concurrency 1` \(or `--slots cpu`, so evaluations take turns\)/);
    } finally {
      slow.process.kill('SIGTERM');
      await slow.result();
    }
  });
});

describe('metric_kind', () => {
  it('a bad value is refused with file:line, the key, what was expected and what was found', async () => {
    const project = await makeProject({ config: { metric_kind: 'fast' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).toBe(1);
    const file = path.join(project.expDir, 'config.cfg');
    const line = (await fs.readFile(file, 'utf8')).split('\n').findIndex((l) => l.startsWith('metric_kind:')) + 1;
    expect(r.stderr).toContain(`${file}:${line}: metric_kind: expected \`timing\` or \`other\`, found \`fast\``);
  });
});

describe('noise settings (issue 11)', () => {
  it('noise: auto with repeats: 1 is warned about at start, with what to do; repeats: 3 or noise: off is not', async () => {
    for (const [config, warned] of [
      [{ noise: 'auto' }, true],
      [{ noise: 'auto', repeats: '3' }, false],
      [{ repeats: '1' }, false], // the default noise for one sample is off
    ] as const) {
      const project = await makeProject({ config });
      const r = await runCli(['--path', project.root, 'run', project.id, '--dry-run'], { env: project.env });
      expect(r.exitCode, JSON.stringify(config)).toBe(0);
      const said = /warning: +noise: auto with repeats: 1 measures the noise on the baseline alone .*set repeats: 3 or more, or noise: off/.test(r.stdout);
      expect(said, `${JSON.stringify(config)}: ${r.stdout}`).toBe(warned);
    }
  });
});
