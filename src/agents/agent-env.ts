/**
 * What a built-in agent CLI may see of our environment, and the settings autoresearch gives
 * it for unattended work. A user's own shell command gets the environment unchanged: it
 * decides for itself.
 *
 * Billing: some variables silently switch a CLI from the user's subscription to pay-per-use
 * API billing (claude-code #14102: an ANTHROPIC_API_KEY in the environment of `claude -p`
 * bills the API and fails with "Credit balance too low"). They are removed unless the config
 * lists them in `agent_pass_env`.
 *
 * Unattended defaults, each only when the user has not set it (environment or agent_args):
 *   gemini  GEMINI_CLI_TRUST_WORKSPACE=true: it refuses (exit 55) a folder never trusted
 *           interactively, and our worktree is one (`--skip-trust` is missing in older versions).
 *   claude  CLAUDE_CODE_MAX_RETRIES: by default it retries a persistent 529/500 for 188–201 s
 *           per call; our own transient retries come on top.
 *   gemini  general.maxAttempts through GEMINI_CLI_SYSTEM_DEFAULTS_PATH: the lowest settings
 *           layer, so the user's own settings still win. The file is a copy of the machine's
 *           system defaults (if any) plus general.maxAttempts, written next to the
 *           iteration's artifacts: never into the worktree (a change) or ~/.gemini (the user's).
 *   codex   its built-in `openai` provider cannot be changed from outside (codex merges
 *           providers with or_insert; no top-level key): ~30 s of its own retries remain.
 *           A custom provider chosen by `model_provider` in $CODEX_HOME/config.toml gets
 *           `-c model_providers.<id>.request_max_retries=…` / `stream_max_retries` unless the
 *           file sets them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentSpec, BuiltinAgentName } from '../config/types.js';
import { shellQuote } from './agent-command.js';

const BILLING_VARIABLES: Record<BuiltinAgentName, readonly string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'],
  codex: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
};

/** How many times a CLI retries one API call by itself (after the first try). */
export const CLI_MAX_RETRIES = 2;
/** Codex's built-in providers, which `-c model_providers.<id>.…` cannot change. */
const CODEX_BUILTIN_PROVIDERS = new Set(['openai', 'oss', 'ollama', 'lmstudio', 'amazon-bedrock', 'amazon-bedrock-runtime']);
export const GEMINI_DEFAULTS_FILE = 'gemini-system-defaults.json';

type Env = Record<string, string | undefined>;

export function agentEnvironment(spec: Exclude<AgentSpec, { kind: 'none' }>, env: Env, passEnv: readonly string[]): Env {
  if (spec.kind !== 'builtin') return env;
  const out = { ...env };
  for (const name of BILLING_VARIABLES[spec.name]) if (!passEnv.includes(name)) delete out[name];
  if (spec.name === 'gemini') out['GEMINI_CLI_TRUST_WORKSPACE'] ??= 'true';
  if (spec.name === 'claude') out['CLAUDE_CODE_MAX_RETRIES'] ??= String(CLI_MAX_RETRIES);
  return out;
}

/**
 * The CLI's own retries, bounded: the environment and extra arguments for one turn.
 * `scratchDir` is ours (the iteration's artifacts directory), for a settings file.
 */
export function boundCliRetries(spec: Exclude<AgentSpec, { kind: 'none' }>, env: Env, scratchDir: string): { env: Env; extraArgs: string[] } {
  if (spec.kind !== 'builtin') return { env, extraArgs: [] };
  if (spec.name === 'gemini') return { env: geminiDefaults(env, scratchDir), extraArgs: [] };
  if (spec.name === 'codex') return { env, extraArgs: codexProviderRetries(env, spec.args) };
  return { env, extraArgs: [] }; // claude: CLAUDE_CODE_MAX_RETRIES, in agentEnvironment
}

/** `command` with `extraArgs` appended, shell-quoted. */
export function withExtraArgs(command: string, extraArgs: readonly string[]): string {
  return extraArgs.length === 0 ? command : `${command} ${extraArgs.map(shellQuote).join(' ')}`;
}

// ---------------------------------------------------------------------------------------

function geminiDefaults(env: Env, scratchDir: string): Env {
  if (env['GEMINI_CLI_SYSTEM_DEFAULTS_PATH'] !== undefined) return env; // the user points it somewhere: theirs
  const machine = readJson(systemDefaultsPath());
  if (machine === undefined) return env; // unreadable (comments?): leave gemini as it is
  const general = isRecord(machine['general']) ? machine['general'] : {};
  if (general['maxAttempts'] !== undefined) return env;
  const file = path.join(scratchDir, GEMINI_DEFAULTS_FILE);
  fs.mkdirSync(scratchDir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ ...machine, general: { ...general, maxAttempts: CLI_MAX_RETRIES + 1 } }, null, 2)}\n`);
  return { ...env, GEMINI_CLI_SYSTEM_DEFAULTS_PATH: file };
}

/** Where gemini-cli looks for its system defaults when the variable is not set. */
function systemDefaultsPath(): string {
  if (process.platform === 'darwin') return '/Library/Application Support/GeminiCli/system-defaults.json';
  if (process.platform === 'win32') return path.join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'gemini-cli', 'system-defaults.json');
  return '/etc/gemini-cli/system-defaults.json';
}

/** The parsed object; {} when the file does not exist; undefined when it is not plain JSON. */
function readJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {}; // no machine defaults: the usual case
  }
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function codexProviderRetries(env: Env, userArgs: readonly string[]): string[] {
  if (userArgs.some((a) => /model_provider|max_retries|--oss|--profile|^-p$/.test(a))) return [];
  const home = env['CODEX_HOME'] ?? path.join(env['HOME'] ?? os.homedir(), '.codex');
  let toml: string;
  try {
    toml = fs.readFileSync(path.join(home, 'config.toml'), 'utf8');
  } catch {
    return []; // no config: the built-in openai provider
  }
  const topLevel = toml.split(/^\s*\[/m)[0] ?? '';
  const id = /^\s*model_provider\s*=\s*["']([A-Za-z0-9_-]+)["']/m.exec(topLevel)?.[1];
  if (id === undefined || CODEX_BUILTIN_PROVIDERS.has(id)) return [];
  const args: string[] = [];
  for (const key of ['request_max_retries', 'stream_max_retries']) {
    if (!new RegExp(`^\\s*${key}\\s*=`, 'm').test(toml)) args.push('-c', `model_providers.${id}.${key}=${CLI_MAX_RETRIES}`);
  }
  return args;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
