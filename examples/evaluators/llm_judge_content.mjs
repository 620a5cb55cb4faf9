// LLM judge of content (headlines, titles, descriptions): one model call scores 5 criteria 1-10 and prints them and ctr_score, their average (seed: llm_judge_content).
// cost: one LLM call per evaluation: uses your quota
// metric: ctr_score higher
// uses-llm: yes
//
// Calls your own CLI (claude, codex or gemini: CLI_TOOL, else the experiment's `agent:` when
// it is one of them, else claude) with the fixed rubric below and the target file's content.
// Settings (the first one given wins): an argument, an environment variable of the same name
// as the constant below, the constant in this file (edit your copy), else the config.
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [content/titles.md]
// ctr_score is the average of the five criteria when the reply has all five (else the
// model's own ctr_score line). A reply without scores, or a failed call, fails the
// evaluation with the CLI's output on stderr (a quota message there makes the loop wait
// instead of recording a crash: see eval_uses_llm). Dependency-free: needs only Node >= 18.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_FILE = ''; // e.g. 'content/titles.md' (default: the first `target` in config.cfg)
const CLI_TOOL = ''; // claude, codex or gemini
const EVALUATOR = 'llm_judge_content';

// The rubric is fixed: the agent cannot change how its work is judged.
const JUDGE_PROMPT = `You are a content quality evaluator. Score the following content strictly.

Criteria (each scored 1-10):

1. CURIOSITY GAP — Does this make you want to click? Is there an information gap
   that can only be resolved by reading? Generic titles score 1-3. Specific,
   intriguing titles score 7-10.

2. SPECIFICITY — Are there concrete numbers, tools, or details? "How I improved
   performance" = 2. "How I reduced API latency from 800ms to 185ms" = 9.

3. EMOTIONAL PULL — Does it trigger curiosity, surprise, fear of missing out,
   or recognition? Flat titles score 1-3. Emotionally charged score 7-10.

4. SCROLL-STOP POWER — Would this stop someone scrolling through a feed or
   search results? Would they pause on this headline? Rate honestly.

5. SEO KEYWORD PRESENCE — Are searchable, high-intent terms present naturally?
   Keyword-stuffed = 3. Natural integration of search terms = 8-10.

Output EXACTLY this format (nothing else):
curiosity: <score>
specificity: <score>
emotional: <score>
scroll_stop: <score>
seo: <score>
ctr_score: <average of all 5 scores>

Be harsh. Most content is mediocre (4-6 range). Only exceptional content scores 8+.`;

const CRITERIA = ['curiosity', 'specificity', 'emotional', 'scroll_stop', 'seo'];

const file = targetFile(process.argv.slice(2).find((a) => a !== '--'));
const content = readTarget(file, 'target file');
const cli = judgeCli();
process.stderr.write(`${EVALUATOR}: judging ${file} with ${cli}\n`);
const { reply, stderr } = askModel(cli, `${JUDGE_PROMPT}\n\n---\n\nContent to evaluate:\n\n${content}`, 'judge');
const scores = scoreLines(reply);
const criteria = CRITERIA.map((label) => scoreOf(scores, label));
const stated = scoreOf(scores, 'ctr_score');
const complete = criteria.every((v) => v !== undefined);
if (!complete && stated === undefined) noScores('judge', reply, stderr);
CRITERIA.forEach((label, i) => criteria[i] !== undefined && console.log(`${label}: ${criteria[i]}`));
console.log(`ctr_score: ${(complete ? average(criteria) : stated).toFixed(2)}`);

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
