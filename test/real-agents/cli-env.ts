/**
 * How each real agent CLI is pointed at the scripted model server, the way its users would:
 * the environment and the files (in a temp HOME) per CLI, and the gate that skips the real-CLI
 * tests loudly when the pinned CLIs are not installed (a failure under CI=true).
 *
 *   claude  ANTHROPIC_BASE_URL + CLAUDE_CODE_OAUTH_TOKEN (subscription: quota shows as "You've
 *           hit your session limit") or ANTHROPIC_API_KEY (API billing). Needs no onboarding
 *           state in HOME for `-p`.
 *   codex   ignores OPENAI_BASE_URL (0.171): a custom provider in $CODEX_HOME/config.toml.
 *   gemini  GOOGLE_GEMINI_BASE_URL + GEMINI_API_KEY, HOME/.gemini/settings.json selecting
 *           gemini-api-key auth, GEMINI_CLI_TRUST_WORKSPACE=true (else exit 55).
 *
 * `bounded` (default) caps each CLI's own retries so an error scenario takes seconds: by
 * default claude retries a 5xx for ~183 s, codex ~25 s, gemini ~200 s (~280 s with its "auto"
 * model, whose router call retries too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLIS = ['claude', 'codex', 'gemini'] as const;
export type CliName = (typeof CLIS)[number];

/** The versions test/real-agents/package.json pins (and that these tests were written against). */
export const PINNED: Record<CliName, string> = { claude: '2.1.197', codex: '0.171.0', gemini: '0.61.0' };

export const REAL_AGENTS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const BIN_DIR = path.join(REAL_AGENTS_DIR, 'node_modules', '.bin');
export const INSTALL_HINT = 'npm ci --prefix test/real-agents --no-audit --no-fund';

/** The model codex and gemini are told to use: a name codex knows (no "metadata not found" noise) and, for gemini, a fixed one, which bypasses its model router (a side call that retries on its own for ~75 s). */
export const MODELS = { codex: 'gpt-5.5', gemini: 'gemini-2.5-flash' } as const;

export function cliBinary(cli: CliName): string {
  return path.join(BIN_DIR, cli);
}

export function cliInstalled(cli: CliName): boolean {
  return fs.existsSync(cliBinary(cli));
}

/**
 * Whether the real-CLI tests of `cli` run here. Absent CLI: a loud warning and a skip, or under
 * CI=true an error (CI installs them; a silent skip there would hide the whole suite).
 */
const warned = new Set<CliName>();

export function realCliAvailable(cli: CliName): boolean {
  if (cliInstalled(cli)) return true;
  const message = `real-agent tests for ${cli} need the pinned CLI in ${BIN_DIR} (not found). Install with: ${INSTALL_HINT}`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${message}`);
  if (!warned.has(cli)) console.warn(`\n*** SKIPPING: ${message}\n`);
  warned.add(cli);
  return false;
}

export interface CliSetupOptions {
  /** The scripted server's base URL for one scenario (`server.baseUrl(scenario)`). */
  baseUrl: string;
  /** A temp dir used as HOME (and for the CLIs' config). */
  home: string;
  /** claude: subscription (OAuth token) or API key. Default subscription. */
  auth?: 'subscription' | 'api-key';
  /** Cap the CLI's own retries (default true). */
  bounded?: boolean;
  /** Leave the credential out (what a stripped key looks like to the CLI). */
  withoutKey?: boolean;
  /** gemini: set GEMINI_CLI_TRUST_WORKSPACE=true (default true; false shows whether the caller sets it). */
  trustWorkspace?: boolean;
}

export interface CliSetup {
  cli: CliName;
  /** The complete environment for the CLI (or for autoresearch running it): nothing inherited. */
  env: Record<string, string>;
  /** Files written for the CLI (absolute paths). */
  files: string[];
  /** The env variable holding the fake key, when autoresearch must pass it (agent_pass_env). */
  keyVariable: string | null;
  /** Settings that mattered, for reports. */
  notes: string[];
}

const FAKE_KEY = 'sk-scripted-not-a-real-key';

/** Writes the CLI's config under `home` and returns the environment to run it with. */
export function setUpCli(cli: CliName, opts: CliSetupOptions): CliSetup {
  const bounded = opts.bounded ?? true;
  const tmp = path.join(opts.home, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const env: Record<string, string> = {
    // The pinned CLIs first, so `claude`/`codex`/`gemini` resolve to them (also for autoresearch).
    PATH: `${BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: opts.home,
    // gemini writes error reports to os.tmpdir(): keep them in the test's dir.
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
  };
  const files: string[] = [];
  const notes: string[] = [];
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    files.push(file);
  };
  let keyVariable: string | null = null;
  switch (cli) {
    case 'claude': {
      env.ANTHROPIC_BASE_URL = opts.baseUrl;
      env.DISABLE_AUTOUPDATER = '1';
      env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
      if ((opts.auth ?? 'subscription') === 'subscription') {
        env.CLAUDE_CODE_OAUTH_TOKEN = FAKE_KEY;
      } else {
        env.ANTHROPIC_API_KEY = FAKE_KEY;
        keyVariable = 'ANTHROPIC_API_KEY';
      }
      if (bounded) {
        env.CLAUDE_CODE_MAX_RETRIES = '0';
        notes.push('CLAUDE_CODE_MAX_RETRIES=0');
      }
      break;
    }
    case 'codex': {
      const codexHome = path.join(opts.home, '.codex');
      env.CODEX_HOME = codexHome;
      env.OPENAI_API_KEY = FAKE_KEY;
      keyVariable = 'OPENAI_API_KEY';
      const retries = bounded ? 'request_max_retries = 0\nstream_max_retries = 0\n' : '';
      write(
        path.join(codexHome, 'config.toml'),
        `model = "${MODELS.codex}"\nmodel_provider = "scripted"\n\n` +
          `[model_providers.scripted]\nname = "Scripted"\nbase_url = "${opts.baseUrl}/v1"\n` +
          `wire_api = "responses"\nenv_key = "OPENAI_API_KEY"\n${retries}`,
      );
      if (bounded) notes.push('provider request_max_retries = 0, stream_max_retries = 0');
      break;
    }
    case 'gemini': {
      env.GOOGLE_GEMINI_BASE_URL = opts.baseUrl;
      env.GEMINI_API_KEY = FAKE_KEY;
      keyVariable = 'GEMINI_API_KEY';
      if (opts.trustWorkspace ?? true) env.GEMINI_CLI_TRUST_WORKSPACE = 'true';
      // A fixed model, as a user who picks one has: with the default "auto", every turn first
      // asks a router model (a side call that retries 5 times with backoff, ~75 s on a 5xx,
      // whatever general.maxAttempts says).
      const settings: Record<string, unknown> = { security: { auth: { selectedType: 'gemini-api-key' } }, model: { name: MODELS.gemini } };
      notes.push(`settings model.name = ${MODELS.gemini}`);
      if (bounded) {
        // Bounds the main call's retries (default 10, ~200 s on a persistent 5xx).
        settings.general = { maxAttempts: 1 };
        notes.push('settings general.maxAttempts = 1');
      }
      write(path.join(opts.home, '.gemini', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
      break;
    }
  }
  if (opts.withoutKey) {
    for (const name of ['CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete env[name];
  }
  return { cli, env, files, keyVariable, notes };
}
