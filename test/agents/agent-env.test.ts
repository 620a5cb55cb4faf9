/**
 * What a built-in agent's environment gets from us: billing keys removed unless passed,
 * gemini trust, and each CLI's own retries bounded, never over a value the user set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentEnvironment, boundCliRetries, CLI_MAX_RETRIES, GEMINI_SETTINGS_FILE, withExtraArgs } from '../../src/agents/agent-env.js';
import type { AgentSpec } from '../../src/config/types.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

const builtin = (name: 'claude' | 'codex' | 'gemini', args: string[] = []): AgentSpec & { kind: 'builtin' } => ({ kind: 'builtin', name, args });

describe('agentEnvironment', () => {
  it('gemini trusts the worktree unless the user says otherwise', () => {
    expect(agentEnvironment(builtin('gemini'), {}, [])['GEMINI_CLI_TRUST_WORKSPACE']).toBe('true');
    expect(agentEnvironment(builtin('gemini'), { GEMINI_CLI_TRUST_WORKSPACE: 'false' }, [])['GEMINI_CLI_TRUST_WORKSPACE']).toBe('false');
    expect(agentEnvironment(builtin('claude'), {}, [])['GEMINI_CLI_TRUST_WORKSPACE']).toBeUndefined();
  });

  it('claude gets CLAUDE_CODE_MAX_RETRIES unless the user set it', () => {
    expect(agentEnvironment(builtin('claude'), {}, [])['CLAUDE_CODE_MAX_RETRIES']).toBe(String(CLI_MAX_RETRIES));
    expect(agentEnvironment(builtin('claude'), { CLAUDE_CODE_MAX_RETRIES: '7' }, [])['CLAUDE_CODE_MAX_RETRIES']).toBe('7');
  });

  it('removes billing keys unless agent_pass_env lists them; a command agent gets everything unchanged', () => {
    const env = { GEMINI_API_KEY: 'k', GOOGLE_API_KEY: 'g', PATH: '/bin' };
    expect(agentEnvironment(builtin('gemini'), env, ['GEMINI_API_KEY'])).toEqual({ GEMINI_API_KEY: 'k', PATH: '/bin', GEMINI_CLI_TRUST_WORKSPACE: 'true' });
    expect(agentEnvironment({ kind: 'command', command: 'x' }, env, [])).toBe(env);
  });
});

describe('boundCliRetries', () => {
  it('gemini: general.maxAttempts in the worktree\'s .gemini/settings.json only while the CLI runs', async () => {
    const worktree = await makeTempDir('ar-wt-');
    const home = await makeTempDir('ar-home-');
    const bound = boundCliRetries(builtin('gemini'), { PATH: '/bin', HOME: home }, worktree);
    expect(bound.extraArgs).toEqual([]);
    expect(bound.env).toEqual({ PATH: '/bin', HOME: home });
    const file = path.join(worktree, GEMINI_SETTINGS_FILE);
    expect(fs.existsSync(file)).toBe(false); // nothing until the attempt starts
    const remove = bound.placeFiles();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ general: { maxAttempts: CLI_MAX_RETRIES + 1 } });
    remove();
    expect(fs.existsSync(path.join(worktree, '.gemini'))).toBe(false); // the directory too
    // A copy left behind by a killed turn is ours: replaced, then removed.
    const again = bound.placeFiles();
    fs.copyFileSync(file, path.join(worktree, 'leftover.json'));
    again();
    await writeFiles(worktree, { [GEMINI_SETTINGS_FILE]: fs.readFileSync(path.join(worktree, 'leftover.json'), 'utf8') });
    bound.placeFiles()();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('gemini: the project\'s own .gemini/settings.json is left as it is; its other .gemini files stay', async () => {
    const worktree = await makeTempDir('ar-wt-');
    const home = await makeTempDir('ar-home-');
    const bound = boundCliRetries(builtin('gemini'), { HOME: home }, worktree);
    await writeFiles(worktree, { [GEMINI_SETTINGS_FILE]: '{ "model": { "name": "x" } }\n', '.gemini/commands/a.toml': 'x' });
    bound.placeFiles()();
    expect(fs.readFileSync(path.join(worktree, GEMINI_SETTINGS_FILE), 'utf8')).toBe('{ "model": { "name": "x" } }\n');
    fs.rmSync(path.join(worktree, GEMINI_SETTINGS_FILE));
    const remove = bound.placeFiles();
    expect(fs.existsSync(path.join(worktree, GEMINI_SETTINGS_FILE))).toBe(true);
    remove();
    expect(fs.existsSync(path.join(worktree, GEMINI_SETTINGS_FILE))).toBe(false);
    expect(fs.existsSync(path.join(worktree, '.gemini', 'commands', 'a.toml'))).toBe(true);
  });

  it('gemini: a file the agent changed during the turn is left for the candidate to show', async () => {
    const worktree = await makeTempDir('ar-wt-');
    const remove = boundCliRetries(builtin('gemini'), { HOME: await makeTempDir('ar-home-') }, worktree).placeFiles();
    fs.writeFileSync(path.join(worktree, GEMINI_SETTINGS_FILE), '{}\n');
    remove();
    expect(fs.readFileSync(path.join(worktree, GEMINI_SETTINGS_FILE), 'utf8')).toBe('{}\n');
  });

  it('gemini: nothing when the user\'s settings or system defaults set maxAttempts (the workspace layer would override them)', async () => {
    const worktree = await makeTempDir('ar-wt-');
    const home = await makeTempDir('ar-home-');
    const placed = (env: Record<string, string>): boolean => {
      const remove = boundCliRetries(builtin('gemini'), env, worktree).placeFiles();
      const there = fs.existsSync(path.join(worktree, GEMINI_SETTINGS_FILE));
      remove();
      return there;
    };
    expect(placed({ HOME: home })).toBe(true);
    await writeFiles(home, { '.gemini/settings.json': '{\n  // mine\n  "general": { "maxAttempts": 10 }\n}\n' });
    expect(placed({ HOME: home })).toBe(false);
    const cliHome = await makeTempDir('ar-gemini-home-');
    expect(placed({ HOME: home, GEMINI_CLI_HOME: cliHome })).toBe(true); // GEMINI_CLI_HOME replaces HOME for gemini
    const defaults = path.join(cliHome, 'defaults.json');
    fs.writeFileSync(defaults, '{ "general": { "maxAttempts": 4 } }');
    expect(placed({ HOME: cliHome, GEMINI_CLI_SYSTEM_DEFAULTS_PATH: defaults })).toBe(false);
  });

  it('codex: bounds a custom provider from config.toml, not a built-in one, not a value the file or agent_args set', async () => {
    const home = await makeTempDir('ar-codex-home-');
    const write = (toml: string): void => fs.writeFileSync(path.join(home, 'config.toml'), toml);
    const bound = (args: string[] = []): string[] => boundCliRetries(builtin('codex', args), { CODEX_HOME: home }, home).extraArgs;

    expect(bound()).toEqual([]); // no config.toml: the built-in openai provider, which cannot be changed
    write('model = "gpt-5"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\nname = "s"\nbase_url = "http://127.0.0.1:1/v1"\nwire_api = "responses"\n');
    expect(bound()).toEqual(['-c', 'model_providers.scripted.request_max_retries=2', '-c', 'model_providers.scripted.stream_max_retries=2']);
    expect(bound(['-c', 'model_provider=other'])).toEqual([]);
    write('model_provider = "scripted"\n[model_providers.scripted]\nname = "s"\nrequest_max_retries = 9\n');
    expect(bound()).toEqual(['-c', 'model_providers.scripted.stream_max_retries=2']);
    write('model_provider = "openai"\n');
    expect(bound()).toEqual([]);
    expect(withExtraArgs('codex exec --json -', ['-c', 'model_providers.scripted.stream_max_retries=2'])).toBe('codex exec --json - -c model_providers.scripted.stream_max_retries=2');
  });

  it('claude and command agents: nothing to add here', async () => {
    const scratch = await makeTempDir('ar-scratch-');
    for (const spec of [builtin('claude'), { kind: 'command', command: 'x' } as const]) {
      const bound = boundCliRetries(spec, {}, scratch);
      expect([bound.env, bound.extraArgs]).toEqual([{}, []]);
      bound.placeFiles()();
      expect(fs.readdirSync(scratch)).toEqual([]);
    }
  });
});
