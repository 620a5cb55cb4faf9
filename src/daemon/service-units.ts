/**
 * Service-manager files that run `autoresearch --path PROJECT daemon start --foreground`:
 * a systemd user unit and a launchd agent, one per project. The human-readable templates
 * live in daemon/ (shipped with the package); this module fills in their @PLACEHOLDER@
 * words, escaping each value for the place it lands in:
 *
 *   systemd  ExecStart words are quoted (C escapes) when needed, `%` (specifiers) doubled
 *            everywhere, `$` (variable expansion) doubled in arguments
 *            (systemd.syntax(7), systemd.service(5)); WorkingDirectory= is taken raw.
 *   launchd  XML-escaped `& < > " '`.
 *
 * Values no format can carry (control characters, relative paths, a node path systemd
 * refuses) are rejected with a message naming the option, never mangled.
 */
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoresearchError } from '../core/errors.js';
import { readFileIfExists, writeFileDurable } from '../fs/durable.js';
import { worktreesRoot } from '../experiment/worktree-location.js';
import { daemonFiles } from './daemon-files.js';
import { shellQuote } from '../core/shell-quote.js';

export type ServiceKind = 'systemd' | 'launchd';

export interface ServiceOptions {
  /** Absolute path of the node binary (process.execPath: pinned, so an nvm switch does not move it). */
  node: string;
  /** Absolute path of the CLI script (dist/cli/main.js). */
  cli: string;
  /** Absolute project root, passed as --path and used as the working directory. */
  project: string;
  /** The PATH the service runs with (see servicePathValue). */
  path: string;
  /**
   * AUTORESEARCH_WORKTREES for the service: the installing shell's worktrees root. A service
   * manager does not see the shell's XDG_STATE_HOME or AUTORESEARCH_WORKTREES; without this the
   * daemon and a foreground `run` would disagree and move the worktrees back and forth.
   */
  worktrees: string;
  /** launchd's stdout/stderr file. Unused by systemd, where the journal has the output. */
  log: string;
  /** Unit/label suffix (see serviceName): autoresearch-<name>.service, io.autoresearch.<name>. */
  name: string;
  /** `daemon start` options the service runs with (`--concurrency N`, `--slots a,b`): those given to `daemon install`. */
  daemonArgs?: readonly string[];
}

export interface ServiceInstallPlan {
  /** Where the file goes. */
  path: string;
  content: string;
  /** Shell commands the user runs next, in order. */
  then: string[];
}

/**
 * A unit name per project: the basename, sanitised, plus a hash of the absolute path, so two
 * checkouts both called `app` get two units. Deterministic: reinstalling finds the same file.
 */
export function serviceName(project: string): string {
  const absolute = path.resolve(project);
  const base =
    path
      .basename(absolute)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .slice(0, 32)
      .replace(/^-+|-+$/g, '') || 'project';
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 8);
  return `${base}-${hash}`;
}

/**
 * Everything a service file needs, from what `daemon install` knows: `node` is
 * process.execPath, `cli` the real path of the running CLI script, `currentPath` the
 * shell's $PATH. launchd appends the output to the project's .autoresearch/daemon.log, the
 * file `daemon logs` reads (systemd ignores `log`: the journal has the output).
 */
export function defaultServiceOptions(opts: {
  project: string;
  home: string;
  node: string;
  cli: string;
  currentPath: string | undefined;
  /** The installing shell's environment, for the worktrees root (default: process.env). */
  env?: NodeJS.ProcessEnv;
}): ServiceOptions {
  const project = path.resolve(opts.project);
  const name = serviceName(project);
  return {
    node: opts.node,
    cli: opts.cli,
    project,
    path: servicePathValue({ home: opts.home, node: opts.node, currentPath: opts.currentPath }),
    worktrees: worktreesRoot(opts.env ?? { ...process.env, HOME: process.env.HOME || opts.home }),
    log: daemonFiles(project).log,
    name,
  };
}

/**
 * The PATH to record in the service: the installing shell's PATH (so `claude` resolves as it
 * does for the user), then where node and agent CLIs usually live, in case the shell's PATH
 * lacks them. Relative entries are dropped: the service's working directory is the project,
 * and `.` on PATH would run whatever the agent wrote there.
 */
export function servicePathValue(opts: { home: string; node: string; currentPath: string | undefined }): string {
  const candidates = [
    ...(opts.currentPath ?? '').split(':'),
    path.dirname(opts.node), // nvm, Homebrew and the official installers put npm's global bin here
    path.join(opts.home, '.local', 'bin'), // claude's native installer, pipx
    '/opt/homebrew/bin',
    '/usr/local/bin',
    '/usr/bin',
    '/bin',
    '/usr/sbin',
    '/sbin',
  ];
  const seen = new Set<string>();
  for (const entry of candidates) {
    if (path.isAbsolute(entry) && !CONTROL.test(entry)) seen.add(entry);
  }
  return [...seen].join(':');
}

export function renderSystemdUnit(opts: ServiceOptions): string {
  checkOptions(opts);
  // systemd refuses these in an executable path ("Executable name contains special
  // characters"), and `$` is left unexpanded there while arguments expand it: refuse.
  if (/["'\\$]/.test(opts.node)) throw badValue('node', opts.node, 'a path without quotes, backslashes or `$` (systemd cannot run it)');
  // A trailing backslash would continue WorkingDirectory= onto the next line.
  if (opts.project.endsWith('\\')) throw badValue('project', opts.project, 'a path that does not end with a backslash');
  const values = placeholderValues(opts);
  return readTemplate('autoresearch.service')
    .split('\n')
    .map((line) => renderSystemdLine(line, values))
    .join('\n');
}

export function renderLaunchdPlist(opts: ServiceOptions): string {
  checkOptions(opts);
  const values = placeholderValues(opts);
  // One pass: a value that happens to contain `@NAME@` is not substituted again. A line that
  // is one <string> of a list placeholder becomes one <string> line per word.
  return readTemplate('io.autoresearch.daemon.plist')
    .split('\n')
    .flatMap((line) => {
      const list = /^(\s*)<string>(@[A-Z]+@)<\/string>$/.exec(line);
      const value = list === null ? null : lookupAny(values, list[2] as string);
      if (list !== null && value !== null && typeof value !== 'string') return value.map((word) => `${list[1]}<string>${xmlEscape(word)}</string>`);
      return [line.replace(PLACEHOLDERS, (word) => xmlEscape(lookup(values, word)))];
    })
    .join('\n');
}

/**
 * Where the file goes and what to run next. `configHome` is $XDG_CONFIG_HOME when set: the
 * systemd user manager looks there instead of ~/.config.
 */
export function serviceInstallPlan(kind: ServiceKind, opts: ServiceOptions & { home: string; configHome?: string }): ServiceInstallPlan {
  switch (kind) {
    case 'systemd': {
      const unit = `autoresearch-${opts.name}.service`;
      return {
        path: path.join(opts.configHome ?? path.join(opts.home, '.config'), 'systemd', 'user', unit),
        content: renderSystemdUnit(opts),
        then: [
          'systemctl --user daemon-reload',
          `systemctl --user enable --now ${unit}`,
          // Without linger the user manager (and the daemon) stops at logout and starts only at login.
          'loginctl enable-linger "$USER"',
          `journalctl --user -u ${unit} -f`,
        ],
      };
    }
    case 'launchd': {
      const file = path.join(opts.home, 'Library', 'LaunchAgents', `io.autoresearch.${opts.name}.plist`);
      return {
        path: file,
        content: renderLaunchdPlist(opts),
        then: [
          // launchd creates the log file but not its directory.
          `mkdir -p ${shellQuote(path.dirname(opts.log))}`,
          `launchctl bootstrap gui/$(id -u) ${shellQuote(file)}`,
          `tail -f ${shellQuote(opts.log)}`,
        ],
      };
    }
    default: {
      const never: never = kind;
      throw new AutoresearchError('BAD_INPUT', `service kind: expected systemd or launchd, found \`${String(never)}\``);
    }
  }
}

export type WriteOutcome = 'written' | 'unchanged' | 'replaced';

/**
 * Write the planned file. An identical file is left alone; a different one is replaced only
 * with `force`, since the user may have edited it (a drop-in would be the better place).
 */
export async function writeServiceFile(plan: ServiceInstallPlan, opts: { force: boolean }): Promise<WriteOutcome> {
  const existing = await readFileIfExists(plan.path);
  if (existing === plan.content) return 'unchanged';
  if (existing !== null && !opts.force) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${plan.path} already exists and differs from what would be written; nothing was changed. See the new content with \`autoresearch daemon install --print\`, or replace the file with --force`,
    );
  }
  await fs.mkdir(path.dirname(plan.path), { recursive: true });
  await writeFileDurable(plan.path, plan.content);
  return existing === null ? 'written' : 'replaced';
}

// --- placeholders and escaping ---------------------------------------------------------

const PLACEHOLDERS = /@[A-Z]+@/g;
const PLACEHOLDER_WORD = /^@[A-Z]+@$/;
// No unit file, plist or shell line can carry these intact.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A list value stands for several words (ExecStart arguments, ProgramArguments strings); none when empty. */
type Values = Readonly<Record<string, string | readonly string[]>>;

function placeholderValues(opts: ServiceOptions): Values {
  return {
    '@DAEMONARGS@': opts.daemonArgs ?? [],
    '@NODE@': opts.node,
    '@CLI@': opts.cli,
    '@PROJECT@': opts.project,
    '@PATH@': opts.path,
    '@WORKTREES@': opts.worktrees,
    '@LOG@': opts.log,
    '@NAME@': opts.name,
  };
}

function lookup(values: Values, word: string): string {
  const value = lookupAny(values, word);
  if (typeof value !== 'string') throw new Error(`bug: ${word} stands for several words; the template uses it where only one fits`);
  return value;
}

function lookupAny(values: Values, word: string): string | readonly string[] {
  const value = values[word];
  if (value === undefined) throw new Error(`bug: unknown placeholder ${word} in a template in daemon/`);
  return value;
}

function checkOptions(opts: ServiceOptions): void {
  for (const key of ['node', 'cli', 'project', 'log', 'worktrees'] as const) {
    const value = opts[key];
    if (!path.isAbsolute(value) || CONTROL.test(value) || value.trim() !== value) {
      throw badValue(key, value, 'an absolute path without control characters or surrounding spaces');
    }
  }
  if (opts.path === '' || CONTROL.test(opts.path)) throw badValue('path', opts.path, 'a non-empty PATH without control characters');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(opts.name)) throw badValue('name', opts.name, 'letters, digits, `.`, `_` or `-` (see serviceName)');
  for (const arg of opts.daemonArgs ?? []) {
    if (arg === '' || CONTROL.test(arg)) throw badValue('daemon argument', arg, 'a non-empty word without control characters');
  }
}

function badValue(key: string, value: string, expected: string): AutoresearchError {
  return new AutoresearchError('BAD_INPUT', `service file ${key}: expected ${expected}, found ${JSON.stringify(value)}`);
}

/** One `Key=value` line of the unit; the key decides the escaping. */
function renderSystemdLine(line: string, values: Values): string {
  if (line.match(PLACEHOLDERS) === null) return line;
  const match = /^([A-Za-z]+)=(.*)$/.exec(line);
  if (match === null) throw new Error(`bug: placeholder outside a Key=value line in daemon/autoresearch.service: ${line}`);
  const key = match[1] as string;
  const value = match[2] as string;
  if (key.startsWith('Exec')) {
    const words = value.split(' ').flatMap((word, index) => {
      if (!PLACEHOLDER_WORD.test(word)) {
        if (word.match(PLACEHOLDERS) !== null) throw new Error(`bug: placeholder inside a word of ${key}= in daemon/autoresearch.service`);
        return [word];
      }
      if (index === 0) return [systemdExecutable(lookup(values, word))];
      const actual = lookupAny(values, word);
      return (typeof actual === 'string' ? [actual] : actual).map(systemdArgument);
    });
    return `${key}=${words.join(' ')}`;
  }
  if (key === 'Environment') {
    // The template quotes the whole assignment: inside "…" backslash escapes apply.
    return `${key}=${value.replace(PLACEHOLDERS, (word) => escapeSpecifiers(lookup(values, word).replace(/[\\"]/g, '\\$&')))}`;
  }
  // WorkingDirectory=, Description=, SyslogIdentifier=: the rest of the line, unquoted.
  return `${key}=${value.replace(PLACEHOLDERS, (word) => escapeSpecifiers(lookup(values, word)))}`;
}

function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

/** The command's first word: quoted when it has spaces; checkOptions/renderSystemdUnit refused the rest. */
function systemdExecutable(value: string): string {
  const escaped = escapeSpecifiers(value);
  return /^[A-Za-z0-9_.,:+=/@%-]+$/.test(value) ? escaped : `"${escaped}"`;
}

/** An argument: `$$` is a literal dollar, `%%` a literal percent; anything unusual is quoted. */
function systemdArgument(value: string): string {
  const escaped = escapeSpecifiers(value).replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_.,:+=/@%$-]+$/.test(value)) return escaped;
  return `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] as string);
}

const XML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };


// --- templates -----------------------------------------------------------------------

function readTemplate(file: string): string {
  return fsSync.readFileSync(path.join(packageRoot(), 'daemon', file), 'utf8');
}

/** This module runs from src/daemon (vitest) or dist/daemon (built): walk up to package.json. */
function packageRoot(): string {
  const here = fileURLToPath(import.meta.url);
  let dir = path.dirname(here);
  for (;;) {
    if (fsSync.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bug: no package.json above ${here}`);
    dir = parent;
  }
}
