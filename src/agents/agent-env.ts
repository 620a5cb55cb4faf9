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
 *   gemini  general.maxAttempts in a workspace settings file, `<worktree>/.gemini/settings.json`,
 *           present only while the CLI runs (written before each attempt, removed right after it,
 *           before the candidate is captured; a kill mid-turn leaves an untracked file that the
 *           rollback's `git clean` removes; one the project ignores is known by its content and
 *           removed after the next attempt). Not a system-defaults file (the lowest layer, the
 *           natural place): gemini skips a system file unless it and every ancestor directory
 *           are owned by root and not writable by group or others, so it never works for
 *           non-root users nor under /tmp. The workspace layer overrides the user's
 *           ~/.gemini/settings.json and the system defaults, so it is written only when none of
 *           them, nor the project's own .gemini/settings.json, mentions maxAttempts.
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
import { shellQuote } from '../core/shell-quote.js';

const BILLING_VARIABLES: Record<BuiltinAgentName, readonly string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'],
  codex: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
};

/** How many times a CLI retries one API call by itself (after the first try). */
export const CLI_MAX_RETRIES = 2;
/** Codex's built-in providers, which `-c model_providers.<id>.…` cannot change. */
const CODEX_BUILTIN_PROVIDERS = new Set(['openai', 'oss', 'ollama', 'lmstudio', 'amazon-bedrock', 'amazon-bedrock-runtime']);
/** Gemini's workspace settings, relative to its working directory (our worktree). */
export const GEMINI_SETTINGS_FILE = path.join('.gemini', 'settings.json');
const GEMINI_SETTINGS_TEXT = `${JSON.stringify({ general: { maxAttempts: CLI_MAX_RETRIES + 1 } }, null, 2)}\n`;

type Env = Record<string, string | undefined>;

export function agentEnvironment(spec: Exclude<AgentSpec, { kind: 'none' }>, env: Env, passEnv: readonly string[]): Env {
  if (spec.kind !== 'builtin') return env;
  const out = { ...env };
  for (const name of BILLING_VARIABLES[spec.name]) if (!passEnv.includes(name)) delete out[name];
  if (spec.name === 'gemini') out['GEMINI_CLI_TRUST_WORKSPACE'] ??= 'true';
  if (spec.name === 'claude') out['CLAUDE_CODE_MAX_RETRIES'] ??= String(CLI_MAX_RETRIES);
  return out;
}

/** What one turn of a CLI gets to bound its own retries. */
export interface RetryBound {
  env: Env;
  extraArgs: string[];
  /** Puts per-attempt files in place (in the worktree); returns what removes them. */
  placeFiles(): () => void;
}

/** The CLI's own retries, bounded: environment, extra arguments and files for one turn in `worktree`. */
export function boundCliRetries(spec: Exclude<AgentSpec, { kind: 'none' }>, env: Env, worktree: string): RetryBound {
  const none = (): (() => void) => () => {};
  if (spec.kind !== 'builtin') return { env, extraArgs: [], placeFiles: none };
  if (spec.name === 'gemini') return { env, extraArgs: [], placeFiles: geminiWorkspaceSettings(env, worktree) };
  if (spec.name === 'codex') return { env, extraArgs: codexProviderRetries(env, spec.args), placeFiles: none };
  return { env, extraArgs: [], placeFiles: none }; // claude: CLAUDE_CODE_MAX_RETRIES, in agentEnvironment
}

/** `command` with `extraArgs` appended, shell-quoted. */
export function withExtraArgs(command: string, extraArgs: readonly string[]): string {
  return extraArgs.length === 0 ? command : `${command} ${extraArgs.map(shellQuote).join(' ')}`;
}

// ---------------------------------------------------------------------------------------

/**
 * Gemini's retry bound as a workspace settings file in the worktree, or nothing when the
 * user (or the project) already has a say. gemini merges defaults < system defaults < user
 * < workspace < system settings: ours must not hide a value from the two layers below it.
 */
function geminiWorkspaceSettings(env: Env, worktree: string): () => () => void {
  const userFile = path.join(env['GEMINI_CLI_HOME'] ?? env['HOME'] ?? os.homedir(), '.gemini', 'settings.json');
  const defaultsFile = env['GEMINI_CLI_SYSTEM_DEFAULTS_PATH'] ?? systemDefaultsPath();
  if (mentionsMaxAttempts(userFile) || mentionsMaxAttempts(defaultsFile)) return () => () => {};
  return () => placeWorkspaceFile(path.join(worktree, GEMINI_SETTINGS_FILE), GEMINI_SETTINGS_TEXT);
}

/**
 * Writes `text` at `file` unless the project has its own file there (tracked or not; a copy
 * of ours left by a killed turn is ours). Returns what removes it again (and the directory,
 * when that leaves it empty), leaving alone a file the agent changed meanwhile.
 */
function placeWorkspaceFile(file: string, text: string): () => void {
  const existing = readText(file);
  if (existing !== null && existing !== text) return () => {};
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  } catch {
    return () => {}; // `.gemini` is a file, or the worktree is read-only: gemini runs unbounded
  }
  return () => {
    if (readText(file) !== text) return;
    fs.rmSync(file, { force: true });
    try {
      fs.rmdirSync(path.dirname(file));
    } catch {
      // not empty: the project's own .gemini files
    }
  };
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Whether a settings file sets maxAttempts: read as text (gemini allows comments in it). */
function mentionsMaxAttempts(file: string): boolean {
  return /"maxAttempts"/.test(readText(file) ?? '');
}

/** Where gemini-cli looks for its system defaults when the variable is not set. */
function systemDefaultsPath(): string {
  if (process.platform === 'darwin') return '/Library/Application Support/GeminiCli/system-defaults.json';
  if (process.platform === 'win32') return path.join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'gemini-cli', 'system-defaults.json');
  return '/etc/gemini-cli/system-defaults.json';
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
