/**
 * `autoresearch report` through the real CLI: a real experiment run by the scripted plan
 * agent produces every failure class, and the README says so with the right counts,
 * iterations, log tails, diffstats and rerun command. Also: a ledger written by the
 * Python skill (4 columns, no runs/).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';
import { luckyKeepProject } from '../helpers/lucky-keep.js';

/**
 * value.txt is the model. The "machine" is a directory outside the worktree that the plan's
 * steps break and repair: a missing interpreter (exit 127), then a busy device (exit 1 with
 * the same text for every candidate).
 */
const EVALUATE = `v=$(cat value.txt)
if [ -f "$MACHINE/no-python" ]; then python9 train.py; exit; fi
if [ -f "$MACHINE/gpu-busy" ]; then echo "loading model"; echo "RuntimeError: device 0 is busy"; exit 1; fi
case "$v" in
  broken:*) echo "Traceback (most recent call last):"; echo '  File "model.py", line 7, in <module>'; echo "ValueError: \${v#broken:}"; exit 1;;
  hang) echo "epoch 1"; sleep 30;;
  quiet) echo "finished, but forgot the score"; exit 0;;
esac
echo "score: $v"
`;

const PLAN = [
  /*  1 */ `echo 8 > value.txt && git commit -qam "eight"`, // keep, gain 2
  /*  2 */ `echo 3 > value.txt && git commit -qam "three"`, // keep, gain 5
  /*  3 */ `echo broken:shapes not aligned > value.txt && git commit -qam "reshape"`, // candidate
  /*  4 */ `touch "$MACHINE/no-python" && echo 2 > value.txt && git commit -qam "two"`, // infra: exit 127
  /*  5 */ `echo 1 > value.txt && git commit -qam "one"`, // infra: exit 127
  /*  6 */ `rm "$MACHINE/no-python" && touch "$MACHINE/gpu-busy" && echo 1.5 > value.txt && git commit -qam "one and a half"`, // infra: same error…
  /*  7 */ `echo 1.25 > value.txt && git commit -qam "one and a quarter"`, // …from a different candidate
  /*  8 */ `rm "$MACHINE/gpu-busy" && echo broken:division by zero > value.txt && git commit -qam "divide"`, // candidate
  /*  9 */ `echo hang > value.txt && git commit -qam "slow"`, // eval_timeout
  /* 10 */ `echo quiet > value.txt && git commit -qam "quiet"`, // metric_missing
  /* 11 */ `echo nan > value.txt && git commit -qam "not a number"`, // metric_invalid
  /* 12 */ `echo changed > other.txt && git commit -qam "sneaky"`, // scope_violation
  /* 13 */ `claude-code-9 --fix`, // infra: the agent's command is missing
  /* 14 */ `echo 2.5 > value.txt && git commit -qam "two and a half"`, // keep, gain 0.5
  /* 15 */ `echo 9 > value.txt`, // discard, no improvement
];

/** The body of a `## title` section of the README, up to the next `## `. */
function section(readme: string, title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section "## ${title}" in:\n${readme}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Iterations in a section's table (first column), in order. */
function tableIterations(text: string): number[] {
  return [...text.matchAll(/^\| (\d+) \| `/gm)].map((m) => Number(m[1]));
}

describe('autoresearch report', () => {
  it('summarises a real experiment and triages every failure class', async () => {
    const machine = await makeTempDir('ar-machine-');
    const project = await makeProject({
      files: { 'evaluate.sh': EVALUATE },
      config: { eval_timeout: '2s', max_consecutive_crashes: '50' },
      plan: PLAN,
    });
    const env = { ...project.env, MACHINE: machine };
    const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', String(PLAN.length)], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((r) => `${r.iteration}:${r.reason}`)).toEqual([
      '0:baseline',
      '1:improved',
      '2:improved',
      '3:eval_exit',
      '4:eval_exit',
      '5:eval_exit',
      '6:eval_exit',
      '7:eval_exit',
      '8:eval_exit',
      '9:eval_timeout',
      '10:metric_missing',
      '11:metric_invalid',
      '12:scope_violation',
      '13:agent_exit',
      '14:improved',
      '15:no_improvement',
    ]);

    const r = await runCli(['--path', project.root, 'report', project.id], { env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const dir = path.join(project.expDir, 'report');
    const readmeFile = path.join(dir, 'README.md');
    expect(r.stdout.split('\n')[0]).toBe(readmeFile);
    // The test runs from elsewhere: the printed command says where the project is.
    // Iteration 13's agent failed before changing anything: no candidate, so not in the command.
    expect(r.stdout.split('\n')).toContain(`  re-run the infrastructure failures once fixed: autoresearch --path ${project.root} rerun ${project.id} --iterations 4-7`);
    expect(r.stdout).toContain('warning: iteration 13: an infrastructure failure with no candidate commit');
    const readme = await fs.readFile(readmeFile, 'utf8');

    // Summary.
    const summary = section(readme, 'Summary');
    expect(summary).toContain('| Iterations | 16: baseline + 15 experiments |');
    expect(summary).toContain('| Keeps | 3 (after the baseline) |');
    expect(summary).toContain('| Keep rate | 20.0% (3 of 15 experiments) |');
    expect(summary).toContain('| Discards | 2: 1 scope violation, 1 no improvement |');
    expect(summary).toContain('| Crashes | 10 |');
    expect(summary).toContain('| Baseline | 10.000000 |');
    expect(summary).toContain(`| Best | 2.500000 (iteration 14, \`${rows[14]?.commit}\`) |`);
    expect(summary).toContain('| Improvement over baseline | +7.500000 (+75.0% better) |');
    expect(summary).toContain('| Agent cost | not reported (15 agent turns) |');
    const time = /\| Time \| [\d.]+s in all: agent [\d.]+s \((\d+)%\), evaluation [\d.]+s \((\d+)%\), other [\d.]+s \((\d+)%\) \|/.exec(summary);
    expect(time, summary).not.toBeNull();
    expect(time?.slice(1).reduce((sum, p) => sum + Number(p), 0)).toBe(100);

    // The overview: one line per class, in action order, with counts and iterations.
    const overview = section(readme, 'Failures');
    const classes = [...overview.matchAll(/^\| \[([^\]]+)\]\(#[a-z-]+\) \| (\d+) \| ([\d, ]+) \|/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(classes).toEqual([
      ['Infrastructure failures', 5, '4, 5, 6, 7, 13'],
      ['Candidate failures', 2, '3, 8'],
      ['Timeouts', 1, '9'],
      ['Metric-parse failures', 2, '10, 11'],
      ['Scope violations', 1, '12'],
    ]);

    // Top improvements: by gain (5, 2, 0.5), each with its commit, delta and diffstat.
    const top = section(readme, 'Top improvements');
    const ranked = [...top.matchAll(/^\d+\. \*\*Iteration (\d+)\*\*, `(\w+)`: (.*?): ([\d.]+) → ([\d.]+) \(([-+][\d.]+), ([-+][\d.]+%) better\)$/gm)].map((m) => m.slice(1));
    expect(ranked).toEqual([
      ['2', rows[2]?.commit, 'three', '8.000000', '3.000000', '+5.000000', '+62.5%'],
      ['1', rows[1]?.commit, 'eight', '10.000000', '8.000000', '+2.000000', '+20.0%'],
      ['14', rows[14]?.commit, 'two and a half', '3.000000', '2.500000', '+0.500000', '+16.7%'],
    ]);
    expect(top.match(/value\.txt \| 2 \+-/g)?.length).toBe(3);
    expect(top).toContain('1 file changed, 1 insertion(+), 1 deletion(-)');
    // Each keep's diff, parent → keep.
    expect(top).toContain('   ```diff\n   diff --git a/value.txt b/value.txt\n');
    expect(top).toContain('   -8\n   +3\n');
    expect(top).toContain('   -3\n   +2.5\n');

    // Infrastructure: exit 127 in the evaluation, the same error from two candidates, a missing agent command.
    const infra = section(readme, 'Infrastructure failures');
    expect(tableIterations(infra)).toEqual([4, 5, 6, 7, 13]);
    expect(infra).toContain(`autoresearch rerun ${project.id} --iterations 4-7\n`);
    expect(infra).toContain('No candidate commit to re-run for iteration 13: the agent failed before changing anything');
    expect(section(readme, 'Failures')).toContain(`\`autoresearch rerun ${project.id} --iterations 4-7\` (13: no candidate, nothing to rerun)`);
    // The printed command is one `rerun` accepts, and it selects exactly these rows.
    const dry = await runCli(['--path', project.root, 'rerun', project.id, '--iterations', '4-7', '--dry-run'], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect([...dry.stdout.matchAll(/^\s+#(\d+) /gm)].map((m) => Number(m[1]))).toEqual([4, 5, 6, 7]);
    // What the report leaves out, rerun would skip: 13 has no candidate.
    const skipped = await runCli(['--path', project.root, 'rerun', project.id, '--iterations', '13'], { env });
    expect(skipped.exitCode, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('#13: no candidate commit to rerun (agent_exit); skipped');
    expect(infra).toMatch(/\| 4 \| `\w+` \| eval_exit \| exit 127 \(command not found\) \| two \|/);
    expect(infra).toMatch(/\| 6 \| `\w+` \| eval_exit \| the same error in 2 different candidates \(iterations 6, 7\) \| one and a half \|/);
    expect(infra).toMatch(/\| 13 \| `\w+` \| agent_exit \| command not found \|/);
    // One tail per distinct error, naming every iteration it hit; from eval.log, or the agent's stderr.
    expect(infra).toMatch(/\*\*Iterations 4, 5\*\*, last 15 lines of `runs\/00005\/eval\.log`:\n\n```\nevaluate\.sh: 2: python9: not found\n```/);
    expect(infra).toMatch(/\*\*Iterations 6, 7\*\*, last 15 lines of `runs\/00007\/eval\.log`:\n\n```\nloading model\nRuntimeError: device 0 is busy\n```/);
    expect(infra).toMatch(/\*\*Iteration 13\*\*, last 15 lines of `runs\/00013\/agent\.stderr\.log`:\n\n```\n.*claude-code-9: not found\n```/);

    // Candidate failures: varied errors, each with its own tail.
    const candidate = section(readme, 'Candidate failures');
    expect(tableIterations(candidate)).toEqual([3, 8]);
    expect(candidate).toContain('ValueError: shapes not aligned');
    expect(candidate).toContain('ValueError: division by zero');
    expect(candidate).not.toContain('autoresearch rerun');

    const timeouts = section(readme, 'Timeouts');
    expect(tableIterations(timeouts)).toEqual([9]);
    expect(timeouts).toMatch(/1 at eval_timeout \(2\.0s\), 0 at agent_timeout \(30m 00s\)\. The baseline's evaluation took [\d.]+s/);
    expect(timeouts).toMatch(/```\nepoch 1\n```/);

    const metric = section(readme, 'Metric-parse failures');
    expect(metric).toMatch(/\| 10 \| `\w+` \| metric_missing \| no metric line \| quiet \|/);
    expect(metric).toMatch(/\| 11 \| `\w+` \| metric_invalid \| the metric is not a finite number \| not a number \|/);
    expect(metric).toContain('finished, but forgot the score');

    const scope = section(readme, 'Scope violations');
    expect(scope).toMatch(/\| 12 \| `\w+` \| `other\.txt` \| sneaky \|/);
    expect(scope).toContain('outside `scope` (`value.txt`)');

    expect(readme).not.toContain('## Agent failures');

    // Every failure's longer tail, one file per class; the default dir ignores itself.
    expect((await fs.readdir(path.join(dir, 'failures'))).sort()).toEqual(['candidate.md', 'infrastructure.md', 'metric_parse.md', 'scope_violation.md', 'timeout.md']);
    const infraFile = await fs.readFile(path.join(dir, 'failures', 'infrastructure.md'), 'utf8');
    expect([...infraFile.matchAll(/^## Iteration (\d+): (\w+)$/gm)].map((m) => `${m[1]}:${m[2]}`)).toEqual(['4:eval_exit', '5:eval_exit', '6:eval_exit', '7:eval_exit', '13:agent_exit']);
    expect(infraFile).toContain('- Detail: exit code 127');
    expect(infraFile).toMatch(/^- Why: eval_exit 127: .*not found$/m);
    expect(await git(project.root, 'status', '--porcelain')).toBe('?? .autoresearch/');
    expect(await git(project.root, 'status', '--porcelain', '--untracked-files=all')).not.toContain('report/');
  });

  it('warns about a run of no_change rows, and caps each keep\'s diff with a pointer to git show', async () => {
    const project = await makeProject({
      config: { scope: 'value.txt, notes.txt', max_consecutive_no_change: '50' },
      plan: [
        // 100 lines of notes and a better value: a diff longer than the per-keep cap.
        `seq 1 100 > notes.txt && echo 8 > value.txt && git add notes.txt && git commit -qam "eight, with notes"`,
        'true',
        'true',
        'true',
        'true',
        `echo 7 > value.txt && git commit -qam "seven"`,
        'true',
        'true',
      ],
      files: { 'notes.txt': '' },
    });
    const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '8'], { env: project.env });
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((r) => r.reason)).toEqual(['baseline', 'improved', 'no_change', 'no_change', 'no_change', 'no_change', 'improved', 'no_change', 'no_change']);

    const r = await runCli(['--path', project.root, 'report', project.id], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const warning = 'iterations 2–5: 4 no_change in a row: the agent is not changing anything; check program.md / scope (value.txt, notes.txt)';
    expect(r.stdout).toContain(`  warning: ${warning}`);
    // Two in a row (7–8) is not yet a pattern; nothing to rerun either.
    expect(r.stdout).not.toContain('iterations 7–8');
    expect(r.stdout).not.toContain('rerun');
    const readme = await fs.readFile(path.join(project.expDir, 'report', 'README.md'), 'utf8');
    expect(section(readme, 'Warnings')).toContain(`- ${warning}`);
    expect(readme).not.toContain('autoresearch rerun');

    const top = section(readme, 'Top improvements');
    const first = top.slice(top.indexOf('**Iteration 1**'), top.indexOf('**Iteration 6**'));
    const diffLines = first.slice(first.indexOf('```diff\n') + 8, first.lastIndexOf('   ```')).trimEnd().split('\n');
    expect(diffLines).toHaveLength(60);
    expect(diffLines[0]).toBe('   diff --git a/notes.txt b/notes.txt');
    const full = (await git(project.root, 'diff', `${rows[1]?.commit}^`, rows[1]?.commit as string)).split('\n');
    expect(first).toContain(`   … ${full.length - 60} more lines, see \`git show ${rows[1]?.commit}\``);
    // The short keep is shown whole.
    expect(top.slice(top.indexOf('**Iteration 6**'))).toContain('   -8\n   +7\n   ```');
  });

  it('writes to --out, and a second report leaves no stale class file', async () => {
    const project = await makeProject({ plan: [`echo 4 > value.txt && git commit -qam "four"`, `echo x > other.txt && git commit -qam "out of scope"`] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env })).exitCode).toBe(0);
    const out = path.join(await makeTempDir('ar-report-'), 'triage');
    const first = await runCli(['--path', project.root, 'report', project.id, '--out', out], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe(path.join(out, 'README.md'));
    expect(await fs.readdir(path.join(out, 'failures'))).toEqual(['scope_violation.md']);
    // Not the experiment's own dir: the user decides what to commit.
    await expect(fs.stat(path.join(out, '.gitignore'))).rejects.toThrow();

    // The same ledger with its scope violation gone (as if the row had never been written).
    const ledger = path.join(project.expDir, 'results.tsv');
    const lines = (await fs.readFile(ledger, 'utf8')).trimEnd().split('\n');
    await fs.writeFile(ledger, lines.slice(0, -1).join('\n') + '\n');
    const second = await runCli(['--path', project.root, 'report', project.id, '--out', out], { env: project.env });
    expect(second.exitCode).toBe(0);
    expect(await fs.readdir(path.join(out, 'failures'))).toEqual([]);
    expect(await fs.readFile(path.join(out, 'README.md'), 'utf8')).toMatch(/## Failures\n\nNone\./);
  });

  it('degrades gracefully on a ledger written by the Python skill (4 columns, no runs/)', async () => {
    const project = await makeProject();
    const head = await git(project.root, 'rev-parse', '--short=7', 'HEAD');
    await writeFiles(project.root, { 'value.txt': '7\n' });
    await git(project.root, 'commit', '-qam', 'seven');
    const kept = await git(project.root, 'rev-parse', '--short=7', 'HEAD');
    await writeFiles(project.expDir, {
      'config.cfg': 'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\nmetric_direction: lower\nmetric_grep: ^score:\ntime_budget_minutes: 0.5\ncreated: 2026-03-08 14:12\n',
      'results.tsv':
        'commit\tmetric\tstatus\tdescription\n' +
        `${head}\t10.000000\tkeep\tbaseline\n` +
        `${head}\tN/A\tcrash\texit_1\n` +
        `${head}\tN/A\tcrash\texit_127\n` +
        `${head}\tN/A\tcrash\ttimeout_900s\n` +
        `${head}\tN/A\tcrash\tmetric_parse_failed\n` +
        `${head}\t12.000000\tdiscard\tno_improvement_12.0000_vs_10.0000\n` +
        `${kept}\t7.000000\tkeep\tvalue.txt | 2 +-\n`,
    });
    const before = await fs.readFile(path.join(project.expDir, 'results.tsv'), 'utf8');
    const r = await runCli(['--path', project.root, 'report', project.id], { env: project.env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    // Read-only: the seed's ledger is not upgraded by a report.
    expect(await fs.readFile(path.join(project.expDir, 'results.tsv'), 'utf8')).toBe(before);
    const readme = await fs.readFile(path.join(project.expDir, 'report', 'README.md'), 'utf8');
    expect(readme).toContain('7 of 7 rows have no `runs/<iteration>/result.json`');
    expect(readme).toContain('| Iterations | 7: baseline + 6 experiments |');
    expect(readme).toContain('| Keep rate | 16.7% (1 of 6 experiments) |');
    expect(readme).toContain('| Discards | 1: 1 discard |');
    expect(readme).toContain('| Improvement over baseline | +3.000000 (+30.0% better) |');
    expect(readme).toContain('| Agent cost | no agent turns |');
    expect(readme).toContain('| Time | not recorded |');
    const classes = [...section(readme, 'Failures').matchAll(/^\| \[([^\]]+)\]\(#[a-z-]+\) \| (\d+) \| ([\d, ]+) \|/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(classes).toEqual([
      ['Infrastructure failures', 1, '2'],
      ['Candidate failures', 1, '1'],
      ['Timeouts', 1, '3'],
      ['Metric-parse failures', 1, '4'],
    ]);
    // Seed rows' iterations are their row indices, as the loop numbers them after upgrading the ledger.
    expect(section(readme, 'Infrastructure failures')).toContain(`autoresearch rerun ${project.id} --iterations 2`);
    expect(section(readme, 'Infrastructure failures')).toMatch(/\| 2 \| `\w+` \| eval_exit \| exit 127 \(command not found\) \| exit_127 \|/);
    expect(section(readme, 'Candidate failures')).toContain('No log for iteration 1.');
    // The keep's diffstat from the project's history (parent = commit^).
    const top = section(readme, 'Top improvements');
    expect(top).toContain(`**Iteration 6**, \`${kept}\`: value.txt | 2 +-: 10.000000 → 7.000000 (+3.000000, +30.0% better)`);
    expect(top).toContain(' value.txt | 2 +-');
  });

  it('a keep a revalidation undid is not a top improvement: it comes after the keeps that stand, marked', async () => {
    // `lucky` is worth 9, but its first evaluation prints 7: the revalidation after it (iteration 3) undoes it.
    const { project, env } = await luckyKeepProject();
    const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 });
    expect(run.exitCode).toBe(0);
    const r = await runCli(['--path', project.root, 'report', project.id], { env });
    expect(r.exitCode).toBe(0);
    const top = section(await fs.readFile(r.stdout.split('\n')[0] as string, 'utf8'), 'Top improvements');
    const ranked = [...top.matchAll(/^\d+\. \*\*Iteration (\d+)\*\*.*$/gm)];
    expect(ranked.map((m) => Number(m[1]))).toEqual([1, 4, 2]);
    expect(ranked[2]?.[0]).toMatch(/: lucky: 9\.000000 → 7\.000000 \(\+2\.000000, \+22\.2% better, did not reproduce: undone by the revalidation of iteration 3\)$/);
    expect(ranked[0]?.[0]).not.toMatch(/did not reproduce/);
    expect(top).toContain('keeps whose gain did not reproduce come last');
  }, 120_000);

  it('refuses an unknown experiment with exit 1', async () => {
    const project = await makeProject();
    const r = await runCli(['--path', project.root, 'report', 'test/nope'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/experiment test\/nope/);
  });
});
