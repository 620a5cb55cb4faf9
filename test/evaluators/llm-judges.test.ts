/**
 * The LLM judges (llm_judge_content, llm_judge_copy, llm_judge_prompt) against a fake CLI on
 * PATH (test/fixtures/fake-judge/judge-cli.sh as `claude`, `codex` and `gemini`): the prompt
 * each sends, how each CLI is called, how replies are read, and that a failed call or a reply
 * without scores fails the evaluation with the CLI's output on stderr.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

const EVALUATORS = fileURLToPath(new URL('../../examples/evaluators/', import.meta.url));
const FAKE_CLI = fileURLToPath(new URL('../fixtures/fake-judge/judge-cli.sh', import.meta.url));

interface Judge {
  work: string;
  log: string;
  run(name: string, args?: string[], env?: Record<string, string>): ReturnType<typeof execa>;
  reply(text: string, file?: string): Promise<string>;
  calls(): Promise<string[]>;
  prompt(n: number): Promise<string>;
}

async function judge(files: Record<string, string> = {}): Promise<Judge> {
  const work = await makeTempDir('ar-judge-');
  const bin = await makeTempDir('ar-bin-');
  const log = await makeTempDir('ar-judge-log-');
  for (const cli of ['claude', 'codex', 'gemini']) await fs.symlink(FAKE_CLI, path.join(bin, cli));
  await writeFiles(work, files);
  const replyFile = path.join(log, 'reply.txt');
  return {
    work,
    log,
    run: (name, args = [], env = {}) =>
      execa('node', [path.join(EVALUATORS, `${name}.mjs`), ...args], {
        cwd: work,
        env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, JUDGE_LOG: log, JUDGE_REPLY: replyFile, ...env },
        extendEnv: false,
        reject: false,
      }),
    async reply(text, file = replyFile) {
      await fs.writeFile(file, text);
      return file;
    },
    async calls() {
      return (await fs.readFile(path.join(log, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    },
    prompt: (n) => fs.readFile(path.join(log, `prompt.${n}`), 'utf8'),
  };
}

describe('llm_judge_content', () => {
  it('sends the fixed rubric and the content to `claude -p` on stdin and prints the seed metrics; ctr_score is the average', async () => {
    const j = await judge({ 'content/titles.md': 'How I reduced API latency from 800ms to 185ms\n' });
    await j.reply('curiosity: 7\nspecificity: 9\nemotional: 5\nscroll_stop: 6\nseo: 8\nctr_score: 9.5\n');
    const r = await j.run('llm_judge_content', ['content/titles.md']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('curiosity: 7\nspecificity: 9\nemotional: 5\nscroll_stop: 6\nseo: 8\nctr_score: 7.00');
    expect(await j.calls()).toEqual(['claude -p']);
    const prompt = await j.prompt(1);
    expect(prompt).toContain('You are a content quality evaluator.');
    expect(prompt).toContain('scroll_stop: <score>');
    expect(prompt).toMatch(/Content to evaluate:\n\nHow I reduced API latency from 800ms to 185ms\n$/);
  });

  it('reads what models add around the scores: markdown, bullets, names, /10', async () => {
    const j = await judge({ 't.md': 'x' });
    await j.reply('Here is my evaluation:\n\n```\n**Curiosity Gap**: 6/10\n- Specificity: 7\n3. Emotional Pull: 5 (flat)\n* Scroll-Stop Power = 4\n**SEO**: 8\n```\nOverall fine.\n');
    const r = await j.run('llm_judge_content', ['t.md']);
    expect(r.stdout).toBe('curiosity: 6\nspecificity: 7\nemotional: 5\nscroll_stop: 4\nseo: 8\nctr_score: 6.00');
  });

  it("uses the model's ctr_score when criteria are missing; no score at all is a crash with the reply on stderr", async () => {
    const j = await judge({ 't.md': 'x' });
    await j.reply('curiosity: 2\nctr_score: 4.4\n');
    expect((await j.run('llm_judge_content', ['t.md'])).stdout).toBe('curiosity: 2\nctr_score: 4.40');
    await j.reply("I'm sorry, I can't evaluate this content.\n");
    const r = await j.run('llm_judge_content', ['t.md']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("I'm sorry, I can't evaluate this content.");
    expect(r.stderr).toContain("llm_judge_content: judge: the model's reply holds no scores");
  });

  it("a failed CLI call fails the evaluation with the CLI's own output (a quota message reaches the loop)", async () => {
    const j = await judge({ 't.md': 'x' });
    await j.reply('Claude AI usage limit reached|1767225600\n');
    const r = await j.run('llm_judge_content', ['t.md'], { JUDGE_EXIT: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Claude AI usage limit reached|1767225600');
    expect(r.stderr).toContain('judge: `claude -p` exited with code 1');
  });

  it("picks the CLI: CLI_TOOL, else the experiment's built-in agent (codex exec -, gemini -p), else claude", async () => {
    const j = await judge({ 'titles.md': 'x', 'exp/config.cfg': 'target: titles.md\nevaluate_cmd: x\nmetric: ctr_score\nagent: gemini\n' });
    await j.reply('ctr_score: 5\n');
    const exp = { AUTORESEARCH_EXPERIMENT_DIR: path.join(j.work, 'exp') };
    expect((await j.run('llm_judge_content', [], exp)).stdout).toBe('ctr_score: 5.00'); // the target from config.cfg
    await j.run('llm_judge_content', [], { ...exp, CLI_TOOL: 'codex' });
    await fs.writeFile(path.join(j.work, 'exp/config.cfg'), 'target: titles.md\nevaluate_cmd: x\nmetric: ctr_score\nagent: ./my-agent.sh\n');
    await j.run('llm_judge_content', [], exp);
    expect(await j.calls()).toEqual(['gemini -p Follow the instructions above.', 'codex exec -', 'claude -p']);
  });

  it('fails clearly without a target file', async () => {
    const j = await judge();
    const r = await j.run('llm_judge_content', ['missing.md']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('target file not found: expected a file at `missing.md`');
    expect(await j.calls()).toEqual([]);
  });
});

describe('llm_judge_copy', () => {
  it("scores the PLATFORM's rubric and prints criterion_1..5 and engagement_score", async () => {
    const j = await judge({ 'posts.md': 'Ship it.' });
    await j.reply('criterion_1: 8\ncriterion_2: 6\ncriterion_3: 7\ncriterion_4: 9\ncriterion_5: 5\nengagement_score: 7\n');
    const r = await j.run('llm_judge_copy', ['posts.md'], { PLATFORM: 'linkedin' });
    expect(r.stdout).toBe('criterion_1: 8\ncriterion_2: 6\ncriterion_3: 7\ncriterion_4: 9\ncriterion_5: 5\nengagement_score: 7.00');
    const prompt = await j.prompt(1);
    expect(prompt).toContain('Score this LinkedIn post strictly:');
    expect(prompt).toMatch(/Copy to evaluate:\n\nShip it\.$/);
  });

  it('reads named criteria in order when the model ignores the labels, as the seed does', async () => {
    const j = await judge({ 'posts.md': 'x' });
    await j.reply('Hook: 4\nValue: 6\nEngagement: 5\nBrevity: 9\nCTA: 6\n');
    const r = await j.run('llm_judge_copy', ['posts.md']);
    expect(r.stdout).toBe('criterion_1: 4\ncriterion_2: 6\ncriterion_3: 5\ncriterion_4: 9\ncriterion_5: 6\nengagement_score: 6.00');
    expect((await j.prompt(1)).startsWith('Score this Twitter/X post strictly:')).toBe(true);
  });

  it('refuses an unknown PLATFORM before calling the model', async () => {
    const j = await judge({ 'posts.md': 'x' });
    const r = await j.run('llm_judge_copy', ['posts.md'], { PLATFORM: 'myspace' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('PLATFORM: expected one of twitter, linkedin, instagram, email, ad, found `myspace`');
    expect(await j.calls()).toEqual([]);
  });
});

describe('llm_judge_prompt', () => {
  it('answers each test case with the prompt, judges each answer, and prints quality_score = average × 10', async () => {
    const j = await judge({ 'prompt.md': 'You are a terse assistant.', 'tests/cases.json': JSON.stringify([{ input: 'What is 2+2?', expected: '4' }, { input: 'Capital of France?' }]) });
    await j.reply('quality_score: 8\n');
    const generate = await j.reply('An answer.\n', path.join(j.log, 'answer.txt'));
    const r = await j.run('llm_judge_prompt', ['prompt.md'], { JUDGE_REPLY_GENERATE: generate });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('quality_score: 80.00\ncases_tested: 2\navg_per_case: 8.00');
    expect(await j.calls()).toHaveLength(4);
    expect(await j.prompt(1)).toBe('You are a terse assistant.\n\nWhat is 2+2?');
    const judged = await j.prompt(2);
    expect(judged).toContain("You are evaluating a system prompt's effectiveness.");
    expect(judged).toContain('EXPECTED OUTPUT (reference):\n4\n\nACTUAL OUTPUT:\nAn answer.');
    expect(await j.prompt(4)).toContain('EXPECTED OUTPUT (reference):\nN/A');
  });

  it('a judge reply without a score fails the evaluation (the seed would score the case 0)', async () => {
    const j = await judge({ 'prompt.md': 'p', 'tests/cases.json': '[{"input": "a"}]' });
    await j.reply('Looks good to me.\n');
    const r = await j.run('llm_judge_prompt', ['prompt.md']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("case 1/1: judge: the model's reply holds no scores");
  });

  it('refuses a missing or malformed test cases file', async () => {
    const j = await judge({ 'prompt.md': 'p', 'bad.json': '{"input": "a"}' });
    expect((await j.run('llm_judge_prompt', ['prompt.md'])).stderr).toContain('test cases file not found: expected a file at `tests/cases.json`');
    expect((await j.run('llm_judge_prompt', ['prompt.md'], { TEST_CASES_FILE: 'bad.json' })).stderr).toContain('expected a non-empty array of {"input": "...", "expected": "..."}');
  });
});
