// LLM judge of marketing copy (posts, ads, emails) for a PLATFORM: one model call scores 5 criteria 1-10 and prints criterion_1..5 and engagement_score, their average (seed: llm_judge_copy).
// cost: one LLM call per evaluation: uses your quota
// metric: engagement_score higher
// uses-llm: yes
//
// Calls your own CLI (claude, codex or gemini: CLI_TOOL, else the experiment's `agent:` when
// it is one of them, else claude) with the fixed rubric of PLATFORM (twitter, linkedin,
// instagram, email, ad) and the target file's content.
// Settings (the first one given wins): an argument, an environment variable of the same name
// as the constant below, the constant in this file (edit your copy), else the config.
//   PLATFORM=linkedin node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [posts.md]
// A reply that names the criteria (`hook: 7`) instead of numbering them is read in order.
// engagement_score is the average of the five criteria when the reply has all five (else the
// model's own engagement_score line). A reply without scores, or a failed call, fails the
// evaluation with the CLI's output on stderr (a quota message there makes the loop wait
// instead of recording a crash: see eval_uses_llm). Dependency-free: needs only Node >= 18.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_FILE = ''; // e.g. 'posts.md' (default: the first `target` in config.cfg)
const CLI_TOOL = ''; // claude, codex or gemini
const PLATFORM = 'twitter'; // twitter, linkedin, instagram, email, ad
const EVALUATOR = 'llm_judge_copy';

// The rubrics are fixed: the agent cannot change how its work is judged.
const JUDGE_PROMPTS = {
  twitter: `Score this Twitter/X post strictly:
1. HOOK (1-10) — Does the first line stop the scroll?
2. VALUE (1-10) — Does it provide insight, entertainment, or utility?
3. ENGAGEMENT (1-10) — Would people reply, retweet, or like?
4. BREVITY (1-10) — Is every word earning its place? No filler?
5. CTA (1-10) — Is there a clear next action (even implicit)?`,
  linkedin: `Score this LinkedIn post strictly:
1. HOOK (1-10) — Does the first line make you click "see more"?
2. STORYTELLING (1-10) — Is there a narrative arc or just statements?
3. CREDIBILITY (1-10) — Does it demonstrate expertise without bragging?
4. ENGAGEMENT (1-10) — Would professionals comment or share?
5. CTA (1-10) — Does it invite discussion or action?`,
  instagram: `Score this Instagram caption strictly:
1. HOOK (1-10) — Does the first line grab attention?
2. RELATABILITY (1-10) — Does the audience see themselves in this?
3. VISUAL MATCH (1-10) — Does the copy complement visual content?
4. HASHTAG STRATEGY (1-10) — Are hashtags relevant and not spammy?
5. CTA (1-10) — Does it encourage saves, shares, or comments?`,
  email: `Score this email subject + preview strictly:
1. OPEN INCENTIVE (1-10) — Would you open this in a crowded inbox?
2. SPECIFICITY (1-10) — Is it concrete or vague?
3. URGENCY (1-10) — Is there a reason to open now vs later?
4. PERSONALIZATION (1-10) — Does it feel written for someone, not everyone?
5. PREVIEW SYNC (1-10) — Does the preview text complement the subject?`,
  ad: `Score this ad copy strictly:
1. ATTENTION (1-10) — Does it stop someone scrolling past ads?
2. DESIRE (1-10) — Does it create want for the product/service?
3. PROOF (1-10) — Is there credibility (numbers, social proof)?
4. ACTION (1-10) — Is the CTA clear and compelling?
5. OBJECTION HANDLING (1-10) — Does it preempt "why not"?`,
};

const platform = process.env.PLATFORM || PLATFORM;
if (!(platform in JUDGE_PROMPTS)) fail(`PLATFORM: expected one of ${Object.keys(JUDGE_PROMPTS).join(', ')}, found \`${platform}\``);
const JUDGE_PROMPT = `${JUDGE_PROMPTS[platform]}

IMPORTANT: You MUST use criterion_1 through criterion_5 as labels, NOT the criterion names.
Do NOT output "hook: 7" — output "criterion_1: 7".

Output EXACTLY this format:
criterion_1: <score>
criterion_2: <score>
criterion_3: <score>
criterion_4: <score>
criterion_5: <score>
engagement_score: <average of all 5>

Be harsh. Most copy is mediocre (4-6). Only exceptional copy scores 8+.`;

const file = targetFile(process.argv.slice(2).find((a) => a !== '--'));
const content = readTarget(file, 'target file');
const cli = judgeCli();
process.stderr.write(`${EVALUATOR}: judging ${file} as ${platform} copy with ${cli}\n`);
const { reply, stderr } = askModel(cli, `${JUDGE_PROMPT}\n\n---\n\nCopy to evaluate:\n\n${content}`, 'judge');
const scores = scoreLines(reply);
let criteria = [1, 2, 3, 4, 5].map((n) => scoreOf(scores, `criterion_${n}`));
if (criteria.every((v) => v === undefined)) {
  // The model named the criteria anyway: take its first five other scores, in order.
  criteria = scores.filter((s) => s.key !== 'engagement_score').slice(0, 5).map((s) => s.value);
}
const stated = scoreOf(scores, 'engagement_score');
const complete = criteria.length === 5 && criteria.every((v) => v !== undefined);
if (!complete && stated === undefined) noScores('judge', reply, stderr);
criteria.forEach((value, i) => value !== undefined && console.log(`criterion_${i + 1}: ${value}`));
console.log(`engagement_score: ${(complete ? average(criteria) : stated).toFixed(2)}`);

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
