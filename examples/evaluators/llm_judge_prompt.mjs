// LLM judge of a prompt: for each test case one model call answers with the prompt and one scores the answer 1-10; prints quality_score (average × 10), cases_tested and avg_per_case (seed: llm_judge_prompt).
// cost: two LLM calls per test case per evaluation: uses your quota
// metric: quality_score higher
// uses-llm: yes
//
// Calls your own CLI (claude, codex or gemini: CLI_TOOL, else the experiment's `agent:` when
// it is one of them, else claude). TEST_CASES_FILE holds `[{"input": "...", "expected": "..."}]`.
// Settings (the first one given wins): an argument, an environment variable of the same name
// as the constant below, the constant in this file (edit your copy), else the config.
//   TEST_CASES_FILE=tests/cases.json node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [prompt.md]
// Unlike the seed, a failed call or a judge reply without a score fails the whole evaluation
// (with the CLI's output on stderr) instead of scoring that case 0: a quota message must make
// the loop wait (see eval_uses_llm), not record a bad score. Dependency-free: Node >= 18.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_FILE = ''; // e.g. 'prompt.md' (default: the first `target` in config.cfg)
const TEST_CASES_FILE = 'tests/cases.json';
const CLI_TOOL = ''; // claude, codex or gemini
const EVALUATOR = 'llm_judge_prompt';

// The rubric is fixed: the agent cannot change how its work is judged.
const judgePrompt = ({ prompt, input, expected, actual }) => `You are evaluating a system prompt's effectiveness.

SYSTEM PROMPT BEING TESTED:
${prompt}

TEST INPUT:
${input}

EXPECTED OUTPUT (reference):
${expected}

ACTUAL OUTPUT:
${actual}

Score the actual output on these criteria (each 1-10):
1. ACCURACY — Does it match the expected output's intent and facts?
2. COMPLETENESS — Does it cover all required elements?
3. CLARITY — Is it well-structured and easy to understand?
4. INSTRUCTION_FOLLOWING — Does it follow the system prompt's guidelines?

Output EXACTLY: quality_score: <average of all 4>
Nothing else.`;

const file = targetFile(process.argv.slice(2).find((a) => a !== '--'));
const prompt = readTarget(file, 'target file');
const casesFile = process.env.TEST_CASES_FILE || TEST_CASES_FILE;
let cases;
try {
  cases = JSON.parse(readTarget(casesFile, 'test cases file'));
} catch (error) {
  fail(`test cases file \`${casesFile}\`: expected JSON, found a parse error (${error.message})`);
}
if (!Array.isArray(cases) || cases.length === 0 || !cases.every((c) => c && typeof c.input === 'string')) {
  fail(`test cases file \`${casesFile}\`: expected a non-empty array of {"input": "...", "expected": "..."}, found ${JSON.stringify(cases).slice(0, 200)}`);
}
const cli = judgeCli();
process.stderr.write(`${EVALUATOR}: ${cases.length} case(s) of ${casesFile} against ${file} with ${cli}\n`);

const caseScores = [];
cases.forEach((testCase, i) => {
  const what = `case ${i + 1}/${cases.length}`;
  const actual = askModel(cli, `${prompt}\n\n${testCase.input}`, `${what}: answer`).reply.trim();
  const judged = askModel(
    cli,
    judgePrompt({ prompt: prompt.slice(0, 500), input: testCase.input, expected: testCase.expected ?? 'N/A', actual: actual.slice(0, 500) }),
    `${what}: judge`,
  );
  const scores = scoreLines(judged.reply);
  let score = scoreOf(scores, 'quality_score');
  if (score === undefined) {
    const criteria = ['accuracy', 'completeness', 'clarity', 'instruction_following'].map((label) => scoreOf(scores, label));
    if (criteria.every((v) => v !== undefined)) score = average(criteria);
  }
  if (score === undefined) noScores(`${what}: judge`, judged.reply, judged.stderr);
  caseScores.push(score);
  process.stderr.write(`  Case ${i + 1}/${cases.length}: ${score.toFixed(1)}\n`);
});

const avg = average(caseScores);
console.log(`quality_score: ${(avg * 10).toFixed(2)}`);
console.log(`cases_tested: ${caseScores.length}`);
console.log(`avg_per_case: ${avg.toFixed(2)}`);

// ---------------------------------------------------------------------------------------
// The judge CLI, the experiment's config, the model's reply (the same in each llm_judge_*).

/** CLI_TOOL from the environment, the constant, the experiment's `agent:` when built in, else claude. */
function judgeCli() {
  const chosen = process.env.CLI_TOOL || CLI_TOOL;
  if (chosen) return chosen;
  const agent = configValue('agent');
  return agent === 'claude' || agent === 'codex' || agent === 'gemini' ? agent : 'claude';
}

/** TARGET_FILE from an argument, the environment, the constant, else the first `target` of config.cfg. */
function targetFile(arg) {
  const file = arg || process.env.TARGET_FILE || TARGET_FILE || (configValue('target') ?? '').split(',')[0].trim();
  if (!file) fail('expected a file to judge (an argument, TARGET_FILE, or `target:` in config.cfg), found none');
  if (/[*?{]/.test(file)) fail(`TARGET_FILE: expected one file, found the glob \`${file}\`; name the file as an argument or in TARGET_FILE`);
  return file;
}

function readTarget(file, what) {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    fail(`${what} not found: expected a file at \`${file}\` in ${process.cwd()}, found ${error.code === 'ENOENT' ? 'nothing' : error.message}`);
  }
}

/**
 * One model call: the prompt goes on stdin (no argument-length limit). claude and any other
 * tool: `<cli> -p`; codex: `codex exec -`; gemini: `gemini -p <note>` (it appends stdin).
 * A failed call fails the evaluation with the CLI's own output on stderr, so a quota or
 * billing message reaches the loop's classifier (eval_uses_llm) instead of a score of 0.
 */
function askModel(cli, prompt, what) {
  const name = path.basename(cli);
  const args = name === 'codex' ? ['exec', '-'] : name === 'gemini' ? ['-p', 'Follow the instructions above.'] : ['-p'];
  // Gemini CLI refuses to run in a folder nobody trusted interactively (the worktree): trust it for this call.
  // Trust the folder (gemini refuses otherwise) and bound claude's own retries of a 5xx
  // (minutes by default); whatever the user set wins.
  const defaults = name === 'gemini' ? { GEMINI_CLI_TRUST_WORKSPACE: 'true' } : name === 'claude' ? { CLAUDE_CODE_MAX_RETRIES: '2' } : {};
  const env = { ...defaults, ...process.env };
  const result = spawnSync(cli, args, { input: prompt, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  if (result.error) fail(`${what}: \`${cli}\` could not start: ${result.error.message} (set CLI_TOOL to claude, codex or gemini)`);
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}\n${result.stderr ?? ''}\n`);
    fail(`${what}: \`${cli} ${args.join(' ')}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`}; its output is above`);
  }
  return { reply: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/**
 * `label: number` lines of a model's reply, tolerant of what models add: markdown bold,
 * bullets, numbering, code fences, `Label Name: 7/10`, `label = 7`. Keys are lower-cased,
 * with spaces and dashes as `_`. The last value of a key wins.
 */
function scoreLines(reply) {
  const scores = [];
  for (const raw of reply.split(/\r?\n/)) {
    const line = raw.replace(/[*`]/g, '').replace(/^\s*(?:[-+>#]+\s*|\d+[.)]\s+)*/, '').trim();
    const match = /^([A-Za-z][A-Za-z0-9 _-]*?)\s*[:=]\s*(-?\d+(?:\.\d+)?)\s*(?:\/\s*(10|100))?\s*(?:\(.*\))?\s*[.,]?\s*$/.exec(line);
    if (!match) continue;
    const key = match[1].trim().toLowerCase().replace(/[\s-]+/g, '_');
    let value = Number(match[2]);
    if (match[3] === '100') value /= 10;
    scores.push({ key, value });
  }
  return scores;
}

/** The value for `label`: an exact key, else a key that starts with it (`scroll_stop_power`). */
function scoreOf(scores, label) {
  const exact = scores.filter((s) => s.key === label);
  if (exact.length > 0) return exact[exact.length - 1].value;
  const prefixed = scores.filter((s) => s.key.startsWith(`${label}_`));
  return prefixed.length > 0 ? prefixed[prefixed.length - 1].value : undefined;
}

function noScores(what, reply, stderr) {
  process.stderr.write(`${reply.slice(0, 2000)}\n${stderr.slice(-2000)}\n`);
  fail(`${what}: the model's reply holds no scores (expected lines like \`label: 7\`); the reply is above`);
}

function average(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** A value from the experiment's config.cfg (next to this file once `init` copied it). */
function configValue(key) {
  const dir = process.env.AUTORESEARCH_EXPERIMENT_DIR || path.dirname(fileURLToPath(import.meta.url));
  let text;
  try {
    text = readFileSync(path.join(dir, 'config.cfg'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([^:#]+?)\s*:(.*)$/.exec(line);
    if (match && match[1] === key) return match[2].trim() || undefined;
  }
  return undefined;
}

function fail(message) {
  process.stderr.write(`${EVALUATOR}: ${message}\n`);
  process.exit(1);
}
