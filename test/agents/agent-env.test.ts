/**
 * What a built-in agent's environment gets from us: billing keys removed unless passed,
 * gemini trust, and each CLI's own retries bounded, never over a value the user set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentEnvironment, boundCliRetries, CLI_MAX_RETRIES, GEMINI_DEFAULTS_FILE, withExtraArgs } from '../../src/agents/agent-env.js';
import type { AgentSpec } from '../../src/config/types.js';
import { makeTempDir } from '../helpers/git-repo.js';

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
  it('gemini: a system-defaults file of ours with general.maxAttempts, outside the worktree', async () => {
    const scratch = path.join(await makeTempDir('ar-scratch-'), 'runs', '00001');
    const { env, extraArgs } = boundCliRetries(builtin('gemini'), { PATH: '/bin' }, scratch);
    expect(extraArgs).toEqual([]);
    expect(env['GEMINI_CLI_SYSTEM_DEFAULTS_PATH']).toBe(path.join(scratch, GEMINI_DEFAULTS_FILE));
    const written = JSON.parse(fs.readFileSync(path.join(scratch, GEMINI_DEFAULTS_FILE), 'utf8')) as { general: { maxAttempts: number } };
    expect(written.general.maxAttempts).toBe(CLI_MAX_RETRIES + 1);
  });

  it('gemini: leaves a defaults path the user set alone', async () => {
    const scratch = await makeTempDir('ar-scratch-');
    const env = { GEMINI_CLI_SYSTEM_DEFAULTS_PATH: '/etc/mine.json' };
    expect(boundCliRetries(builtin('gemini'), env, scratch).env).toBe(env);
    expect(fs.existsSync(path.join(scratch, GEMINI_DEFAULTS_FILE))).toBe(false);
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
    expect(boundCliRetries(builtin('claude'), {}, scratch)).toEqual({ env: {}, extraArgs: [] });
    expect(boundCliRetries({ kind: 'command', command: 'x' }, {}, scratch)).toEqual({ env: {}, extraArgs: [] });
  });
});
