// Runs the test command once and prints pass_rate, passed, failed and total from pytest, unittest, node --test, vitest or jest output (seed: test_pass_rate).
// cost: runs the test command once per evaluation
// metric: pass_rate higher
//
// Settings (the first one given wins): the command after `--`, the environment variable
// TEST_CMD, the constant below (edit your copy), else the default.
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" -- npx vitest run
//   TEST_CMD='python3 -m pytest tests/ --tb=no -q' node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs"
// Failing tests lower the rate (the runner's non-zero exit is expected then); output that
// holds no test summary, or a summary of zero tests, fails the evaluation. Skipped tests
// count neither way. pass_rate = passed / (passed + failed + errors). Dependency-free: Node >= 18.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const TEST_CMD = 'pytest tests/ --tb=no -q';
/** The summary is at the end: keep this much of the output. */
const TAIL_CHARS = 256 * 1024;

/**
 * The counts of the last test summary in `output`, or null when there is none.
 * Formats: jest `Tests: 1 failed, 2 passed, 3 total`; vitest `Tests  1 failed | 2 passed (3)`;
 * node --test `# pass 2` / `ℹ pass 2` (with fail, cancelled); pytest `1 failed, 2 passed, 1 error in 0.1s`;
 * unittest `Ran 3 tests` then `OK` or `FAILED (failures=1, errors=1, skipped=1)`.
 */
export function parseTestSummary(text) {
  // eslint-disable-next-line no-control-regex
  const output = text.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
  const lines = output.split('\n');
  const last = (re) => {
    for (let i = lines.length - 1; i >= 0; i--) {
      const match = re.exec(lines[i]);
      if (match) return { line: lines[i], index: i, match };
    }
    return null;
  };
  const count = (line, word) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  const result = (format, passed, failed, errors) => ({ format, passed, failed, errors, total: passed + failed + errors });

  const jest = last(/^\s*Tests:\s+.*\d+ total/);
  if (jest) return result('jest', count(jest.line, 'passed'), count(jest.line, 'failed'), 0);
  const vitest = last(/^\s*Tests\s+.*\(\d+\)\s*$/);
  if (vitest) return result('vitest', count(vitest.line, 'passed'), count(vitest.line, 'failed'), 0);
  const nodePass = last(/^(?:#|ℹ) pass (\d+)\s*$/);
  if (nodePass) {
    const near = lines.slice(Math.max(0, nodePass.index - 5), nodePass.index + 6).join('\n');
    const num = (word) => Number(new RegExp(`^(?:#|ℹ) ${word} (\\d+)\\s*$`, 'm').exec(near)?.[1] ?? 0);
    return result('node --test', num('pass'), num('fail') + num('cancelled'), 0);
  }
  const pytest = last(/\d+ (?:passed|failed|errors?)\b.* in [\d.]+m?s\b/);
  if (pytest) return result('pytest', count(pytest.line, 'passed'), count(pytest.line, 'failed'), count(pytest.line, 'errors?'));
  const ran = last(/^Ran (\d+) tests? in /);
  if (ran) {
    const verdict = lines.slice(ran.index + 1).find((l) => /^(OK|FAILED)\b/.test(l.trim())) ?? '';
    const n = (word) => Number(new RegExp(`${word}=(\\d+)`).exec(verdict)?.[1] ?? 0);
    const failed = n('failures');
    const errors = n('errors');
    const passed = Number(ran.match[1]) - failed - errors - n('skipped') - n('expected failures') - n('unexpected successes');
    return result('unittest', Math.max(0, passed), failed + n('unexpected successes'), errors);
  }
  return null;
}

async function main() {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const words = dash >= 0 ? argv.slice(dash + 1) : argv;
  const command = words.join(' ') || process.env.TEST_CMD || TEST_CMD;

  let tail = '';
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      // The runner's output goes to stderr: only the metric lines are on stdout.
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-TAIL_CHARS);
    });
  }
  const { code, signal, error } = await new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, error: err }));
    child.on('close', (c, s) => resolve({ code: c, signal: s, error: null }));
  });
  if (error) fail(`\`${command}\` could not start: ${error.message}`);
  if (signal) fail(`\`${command}\` was killed by ${signal}`);

  const summary = parseTestSummary(tail);
  if (summary === null || summary.total === 0) {
    fail(`\`${command}\` exited with code ${code} and printed ${summary === null ? 'no test summary this evaluator knows (pytest, unittest, node --test, vitest, jest)' : 'a summary of zero tests'}; the end of its output is above`);
  }
  process.stderr.write(`test_pass_rate: ${summary.format} summary: ${summary.passed} passed, ${summary.failed} failed, ${summary.errors} errors (exit code ${code})\n`);
  console.log(`pass_rate: ${(summary.passed / summary.total).toFixed(4)}`);
  console.log(`passed: ${summary.passed}`);
  console.log(`failed: ${summary.failed}`);
  console.log(`total: ${summary.total}`);
}

function fail(message) {
  process.stderr.write(`test_pass_rate: ${message}\n`);
  process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
