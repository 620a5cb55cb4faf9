/**
 * The seed's measuring evaluators (benchmark_speed, benchmark_size, build_speed, memory_usage),
 * run as the loop runs them: `node evaluate.mjs` in a work directory, real commands.
 * Metric names and line formats are the seed's, so its configs keep working.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

const EVALUATORS = fileURLToPath(new URL('../../examples/evaluators/', import.meta.url));

function evaluate(name: string, cwd: string, args: string[] = [], env: Record<string, string> = {}) {
  return execa('node', [path.join(EVALUATORS, `${name}.mjs`), ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false, reject: false });
}

/** The `name: value` lines of stdout, in order. */
function metrics(stdout: string): [string, number][] {
  return stdout.split('\n').filter(Boolean).map((line) => {
    const [name, value] = line.split(': ');
    return [name ?? '', Number(value)];
  });
}

async function lineCount(file: string): Promise<number> {
  return (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).length;
}

describe('benchmark_speed', () => {
  it('runs the command WARMUP + RUNS times and prints p50_ms, p95_ms and runs, in the seed format', async () => {
    const work = await makeTempDir();
    const r = await evaluate('benchmark_speed', work, ['--', 'echo run >> count.txt; sleep 0.02']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^p50_ms: \d+\.\d\d\np95_ms: \d+\.\d\d\nruns: 5$/);
    const [[, p50], [, p95]] = metrics(r.stdout) as [[string, number], [string, number]];
    expect(p50).toBeGreaterThanOrEqual(20);
    expect(p95).toBeGreaterThanOrEqual(p50);
    expect(await lineCount(path.join(work, 'count.txt'))).toBe(6); // 1 warmup + 5 timed
    expect(r.stderr).toContain('benchmark_speed: warmup:');
  });

  it('reads COMMAND, RUNS and WARMUP from the environment', async () => {
    const work = await makeTempDir();
    const r = await evaluate('benchmark_speed', work, [], { COMMAND: 'echo run >> count.txt', RUNS: '3', WARMUP: '0' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('runs: 3');
    expect(await lineCount(path.join(work, 'count.txt'))).toBe(3);
  });

  it('fails (no metric) when a run fails, and when there is no command', async () => {
    const work = await makeTempDir();
    const failed = await evaluate('benchmark_speed', work, ['--runs', '2', '--', 'test -e once && exit 4; touch once']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('exited with code 4 (run 1/2)');
    const none = await evaluate('benchmark_speed', work);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('expected a command to benchmark, found none');
    expect((await evaluate('benchmark_speed', work, [], { COMMAND: 'true', RUNS: 'many' })).stderr).toContain('RUNS: expected a whole number ≥ 1, found `many`');
  });
});

describe('benchmark_size', () => {
  it('measures a file and a directory (every file below it), in bytes, kB and MB', async () => {
    const work = await makeTempDir();
    await writeFiles(work, { 'dist/main.js': 'x'.repeat(2048), 'dist/lib/a.js': 'y'.repeat(1000), 'other.txt': 'z' });
    expect((await evaluate('benchmark_size', work, ['dist/main.js'])).stdout).toBe('size_bytes: 2048\nsize_kb: 2.0\nsize_mb: 0.00');
    expect((await evaluate('benchmark_size', work, [], { TARGET_DIR: 'dist/' })).stdout).toBe('size_bytes: 3048\nsize_kb: 3.0\nsize_mb: 0.00');
    expect((await evaluate('benchmark_size', work, [], { TARGET_FILE: 'other.txt' })).stdout).toContain('size_bytes: 1\n');
  });

  it('runs the build step first, and fails when it fails', async () => {
    const work = await makeTempDir();
    const built = await evaluate('benchmark_size', work, ['--build', 'mkdir -p dist && printf 12345 > dist/app.js', 'dist/app.js']);
    expect(built.stdout).toContain('size_bytes: 5\n');
    const broken = await evaluate('benchmark_size', work, ['dist/app.js'], { BUILD_CMD: 'echo "error TS2304" >&2; exit 2' });
    expect(broken.exitCode).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('error TS2304');
    expect(broken.stderr).toContain('build `echo "error TS2304" >&2; exit 2` exited with code 2');
  });

  it("falls back to the experiment's target, and fails when the target is missing (never 0 bytes)", async () => {
    const work = await makeTempDir();
    await writeFiles(work, { 'a.txt': 'aaa', 'b.txt': 'bb', 'exp/config.cfg': 'target: a.txt, b.txt\nevaluate_cmd: x\nmetric: size_bytes\n' });
    expect((await evaluate('benchmark_size', work, [], { AUTORESEARCH_EXPERIMENT_DIR: path.join(work, 'exp') })).stdout).toContain('size_bytes: 5\n');
    const missing = await evaluate('benchmark_size', work, ['dist/gone.js']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('target not found: expected a file or directory at `dist/gone.js`');
  });
});

describe('build_speed', () => {
  it('cleans before every build, untimed, and prints the median and the mean build time', async () => {
    const work = await makeTempDir();
    // The build fails unless the clean ran before it; the clean is slow, the build fast.
    const r = await evaluate('build_speed', work, ['--runs', '2', '--clean', 'sleep 1.5; rm -f out; echo clean >> cleans.txt', '--', 'test ! -e out && touch out && echo build >> builds.txt']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^build_seconds: \d+\.\d\d\nbuild_avg: \d+\.\d\d\nruns: 2$/);
    const [[, median], [, avg]] = metrics(r.stdout) as [[string, number], [string, number]];
    expect(median).toBeLessThan(1.5); // the clean's time is not counted
    expect(avg).toBeLessThan(1.5);
    expect(await lineCount(path.join(work, 'cleans.txt'))).toBe(2);
    expect(await lineCount(path.join(work, 'builds.txt'))).toBe(2);
  });

  it('reads BUILD_CMD and RUNS from the environment (3 runs by default) and fails with a failing build', async () => {
    const work = await makeTempDir();
    const r = await evaluate('build_speed', work, [], { BUILD_CMD: 'echo b >> builds.txt' });
    expect(r.stdout).toContain('runs: 3');
    expect(await lineCount(path.join(work, 'builds.txt'))).toBe(3);
    const failed = await evaluate('build_speed', work, ['--', 'exit 7']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('build 1/3: `exit 7` exited with code 7');
  });
});

describe.runIf(process.platform === 'linux')('memory_usage', () => {
  // Allocates argv[1] MB and holds it argv[2] ms (long enough to overlap on a loaded machine).
  const HOLD = "const b = Buffer.alloc(Number(process.argv[1]) * 1048576, 1); setTimeout(() => b[0], Number(process.argv[2] || 500));";

  it('prints the peak RSS of a command in MB and kB', async () => {
    const work = await makeTempDir();
    const r = await evaluate('memory_usage', work, ['--', `node -e '${HOLD}' 100`]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^peak_mb: \d+\.\d\npeak_kb: \d+$/);
    const [[, mb], [, kb]] = metrics(r.stdout) as [[string, number], [string, number]];
    expect(mb).toBeGreaterThanOrEqual(100);
    expect(mb).toBeLessThan(400);
    expect(kb / 1024).toBeCloseTo(mb, 0);
  });

  it('adds up the processes of the whole tree that run at once', async () => {
    const work = await makeTempDir();
    const r = await evaluate('memory_usage', work, [], { COMMAND: `node -e '${HOLD}' 80 4000 & node -e '${HOLD}' 80 4000 & wait` });
    expect(r.exitCode).toBe(0);
    const [[, mb]] = metrics(r.stdout) as [[string, number]];
    expect(mb).toBeGreaterThanOrEqual(160); // more than either process alone (what /usr/bin/time -v reports)
  });

  it('a failing command is a crash, not a score', async () => {
    const work = await makeTempDir();
    const r = await evaluate('memory_usage', work, ['--', `node -e '${HOLD}' 20; exit 9`]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('exited with code 9: no memory figure for a failed run');
  });
});
