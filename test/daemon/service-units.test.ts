import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import {
  defaultServiceOptions,
  renderLaunchdPlist,
  renderSystemdUnit,
  serviceInstallPlan,
  serviceName,
  servicePathValue,
  writeServiceFile,
  type ServiceOptions,
} from '../../src/daemon/service-units.js';
import { makeTempDir } from '../helpers/git-repo.js';

const TEMPLATES = fileURLToPath(new URL('../../daemon/', import.meta.url));
// Spaces, XML specials, quotes, a backslash, a systemd specifier (%h) and a `$` that a
// careless ExecStart would expand.
const NASTY = `my proj & <co> "q" 'a' %h $HOME\\x 100%`;

function options(project: string, extra: Partial<ServiceOptions> = {}): ServiceOptions {
  return {
    node: '/usr/local/bin/node',
    cli: '/opt/auto research/dist/cli/main.js',
    project,
    path: '/home/u/.local/bin:/usr/local/bin:/usr/bin:/bin',
    worktrees: '/home/u/.local/state/autoresearch/worktrees',
    log: '/Users/u/Library/Logs/autoresearch & co.log',
    name: serviceName(project),
    ...extra,
  };
}

function rejection(fn: () => unknown): AutoresearchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AutoresearchError);
    return error as AutoresearchError;
  }
  throw new Error('expected an error');
}

async function has(command: string, args: string[]): Promise<boolean> {
  const result = await execa(command, args, { reject: false, timeout: 10_000 });
  return result.exitCode === 0;
}

const HAS_SYSTEMD_ANALYZE = await has('systemd-analyze', ['--version']);
// CI must check the unit with systemd's own parser: there a missing systemd-analyze fails the test.
const VERIFY_UNITS = HAS_SYSTEMD_ANALYZE || process.env.CI === 'true';
const HAS_PYTHON_PLISTLIB = await has('python3', ['-c', 'import plistlib']);
const HAS_PLUTIL = await has('plutil', ['-help']);

describe('serviceName', () => {
  it('gives two projects with the same basename two names, and the same project the same name', () => {
    const a = serviceName('/home/u/work/app');
    const b = serviceName('/home/u/other/app');
    expect(a).toMatch(/^app-[0-9a-f]{8}$/);
    expect(b).toMatch(/^app-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(serviceName('/home/u/work/app')).toBe(a);
  });

  it('sanitises the basename into a unit-name-safe word', () => {
    expect(serviceName(`/tmp/${NASTY}`)).toMatch(/^my-proj-co-q-a-h-home-x-100-[0-9a-f]{8}$/);
    expect(serviceName('/')).toMatch(/^project-[0-9a-f]{8}$/);
    expect(serviceName('/tmp/проект')).toMatch(/^project-[0-9a-f]{8}$/);
  });
});

describe('servicePathValue', () => {
  it("keeps the shell's order, adds node's directory and ~/.local/bin, drops relative and duplicate entries", () => {
    const value = servicePathValue({ home: '/home/u', node: '/home/u/.nvm/versions/node/v20.1.0/bin/node', currentPath: '/usr/bin:.:bin:/home/u/go/bin:/usr/bin:' });
    const entries = value.split(':');
    expect(entries.slice(0, 2)).toEqual(['/usr/bin', '/home/u/go/bin']);
    expect(entries).toContain('/home/u/.nvm/versions/node/v20.1.0/bin');
    expect(entries).toContain('/home/u/.local/bin');
    expect(entries).toContain('/bin');
    expect(entries).not.toContain('.');
    expect(entries).not.toContain('bin');
    expect(entries).not.toContain('');
    expect(new Set(entries).size).toBe(entries.length);
  });
});

describe('defaultServiceOptions', () => {
  it("derives the name and PATH, and sends launchd's output to the daemon's own log", () => {
    const cli = '/usr/lib/node_modules/autoresearch/dist/cli/main.js';
    const opts = defaultServiceOptions({ project: '/home/u/work/app/', home: '/home/u', node: '/usr/bin/node', cli, currentPath: '/usr/bin', env: { HOME: '/home/u' } });
    expect(opts).toEqual({
      node: '/usr/bin/node',
      cli: '/usr/lib/node_modules/autoresearch/dist/cli/main.js',
      project: '/home/u/work/app',
      path: servicePathValue({ home: '/home/u', node: '/usr/bin/node', currentPath: '/usr/bin' }),
      worktrees: '/home/u/.local/state/autoresearch/worktrees',
      log: '/home/u/work/app/.autoresearch/daemon.log',
      name: serviceName('/home/u/work/app'),
    });
    // The installing shell's choice of worktrees root is what the service gets.
    expect(defaultServiceOptions({ project: '/p', home: '/home/u', node: '/n', cli, currentPath: '', env: { HOME: '/home/u', XDG_STATE_HOME: '/s' } }).worktrees).toBe(
      '/s/autoresearch/worktrees',
    );
  });
});

describe('renderSystemdUnit', () => {
  it('is the template in daemon/ with the placeholders filled in', async () => {
    const opts = options('/home/u/app', { name: 'app-12345678' });
    const template = await fs.readFile(path.join(TEMPLATES, 'autoresearch.service'), 'utf8');
    const expected = template
      .replaceAll(' @DAEMONARGS@', '') // no daemon options given: no words
      .replaceAll('@NODE@', opts.node)
      .replaceAll('@CLI@', `"${opts.cli}"`) // the only value here that needs quoting: it has a space
      .replaceAll('@PROJECT@', opts.project)
      .replaceAll('@PATH@', opts.path)
      .replaceAll('@WORKTREES@', opts.worktrees)
      .replaceAll('@NAME@', opts.name);
    expect(renderSystemdUnit(opts)).toBe(expected);
  });

  it('has every required directive, and no placeholder left', () => {
    const unit = renderSystemdUnit(options(`/tmp/${NASTY}`));
    expect(unit).not.toMatch(/@[A-Z]+@/);
    const directives = unitDirectives(unit);
    expect(directives.get('Type')).toEqual(['simple']);
    expect(directives.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(directives.get('KillMode')).toEqual(['mixed']);
    expect(directives.get('KillSignal')).toEqual(['SIGTERM']);
    expect(directives.get('TimeoutStopSec')).toEqual(['60']);
    expect(directives.get('Restart')).toEqual(['on-failure']);
    expect(directives.get('RestartSec')).toEqual(['10']);
    expect(Number(directives.get('StartLimitIntervalSec')?.[0])).toBeGreaterThan(5 * 10); // more than 5 restarts' worth of RestartSec
    expect(Number(directives.get('StartLimitBurst')?.[0])).toBeGreaterThanOrEqual(3);
    expect(directives.get('WantedBy')).toEqual(['default.target']);
    expect(directives.get('ExecStart')).toHaveLength(1);
    expect(directives.get('WorkingDirectory')).toHaveLength(1);
  });

  it('quotes and escapes paths with spaces, quotes, `%` and `$` so systemd reads them back verbatim', () => {
    const project = `/tmp/${NASTY}`;
    const opts = options(project, { path: '/home/u/my bin:/opt/100%/bin:/usr/bin', daemonArgs: ['--concurrency', '2', '--slots', '0,gpu $1,50%'] });
    const directives = unitDirectives(renderSystemdUnit(opts));
    // WorkingDirectory= is not unquoted by systemd (a quoted value is "not absolute"): only % is doubled.
    expect(unescapeSpecifiers(directives.get('WorkingDirectory')?.[0] ?? '')).toBe(project);
    const argv = splitExecLine(directives.get('ExecStart')?.[0] ?? '');
    expect(argv).toEqual([opts.node, opts.cli, '--path', project, 'daemon', 'start', '--foreground', '--concurrency', '2', '--slots', '0,gpu $1,50%']);
    expect(splitExecLine(directives.get('Environment')?.[0] ?? '', { expandDollars: false })).toEqual([`PATH=${opts.path}`]);
    expect(splitExecLine(directives.get('Environment')?.[1] ?? '', { expandDollars: false })).toEqual([`AUTORESEARCH_WORKTREES=${opts.worktrees}`]);
  });

  it('refuses values a unit file cannot carry, naming the option', () => {
    expect(rejection(() => renderSystemdUnit(options('relative/app'))).message).toMatch(/service file project: expected an absolute path/);
    expect(rejection(() => renderSystemdUnit(options('/tmp/a\nb'))).message).toMatch(/service file project:.*"\/tmp\/a\\nb"/);
    expect(rejection(() => renderSystemdUnit(options('/tmp/app '))).message).toMatch(/surrounding spaces/);
    expect(rejection(() => renderSystemdUnit(options('/tmp/app\\'))).message).toMatch(/backslash/);
    expect(rejection(() => renderSystemdUnit(options('/tmp/app', { node: '/opt/"node"/bin/node' }))).message).toMatch(/service file node: expected a path without quotes/);
    expect(rejection(() => renderSystemdUnit(options('/tmp/app', { name: '../evil' }))).message).toMatch(/service file name:/);
  });

  // `systemd-analyze verify` parses the unit with systemd's own code: warnings (bad quoting,
  // unknown specifiers, invalid syntax) go to stderr even when it exits 0.
  it.skipIf(!VERIFY_UNITS)('passes `systemd-analyze verify --user` without a warning [skipped where systemd-analyze is not installed; required when CI=true]', async () => {
    const dir = await makeTempDir('ar-unit-');
    const project = path.join(dir, NASTY);
    await fs.mkdir(project);
    const opts = options(project, { node: process.execPath, cli: path.join(dir, 'cli dir', 'main.js'), daemonArgs: ['--concurrency', '2', '--slots', '0,1'] });
    const file = path.join(dir, `autoresearch-${opts.name}.service`);
    await fs.writeFile(file, renderSystemdUnit(opts));
    const result = await verifyUnit(dir, file);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });

  // The one value systemd echoes back after parsing: the executable, in "not executable".
  it.skipIf(!VERIFY_UNITS)('systemd reads the executable back verbatim [skipped where systemd-analyze is not installed; required when CI=true]', async () => {
    const dir = await makeTempDir('ar-unit-');
    const node = '/nonexistent dir/100% node';
    const opts = options(dir, { node });
    const file = path.join(dir, `autoresearch-${opts.name}.service`);
    await fs.writeFile(file, renderSystemdUnit(opts));
    const result = await verifyUnit(dir, file);
    expect(result.stderr).toContain(`Command ${node} is not executable`);
  });
});

describe('renderLaunchdPlist', () => {
  it('is the template in daemon/ with the placeholders filled in', async () => {
    const opts = options('/Users/u/app', { name: 'app-12345678', cli: '/opt/autoresearch/dist/cli/main.js', log: '/Users/u/Library/Logs/autoresearch-app.log' });
    const template = await fs.readFile(path.join(TEMPLATES, 'io.autoresearch.daemon.plist'), 'utf8');
    const expected = template
      .replaceAll('\t\t<string>@DAEMONARGS@</string>\n', '') // no daemon options given: no strings
      .replaceAll('@NODE@', opts.node)
      .replaceAll('@CLI@', opts.cli)
      .replaceAll('@PROJECT@', opts.project)
      .replaceAll('@PATH@', opts.path)
      .replaceAll('@WORKTREES@', opts.worktrees)
      .replaceAll('@LOG@', opts.log)
      .replaceAll('@NAME@', opts.name);
    expect(renderLaunchdPlist(opts)).toBe(expected);
  });

  it('is a well-formed plist whose values read back verbatim, with no placeholder left', () => {
    const project = `/Users/u/${NASTY}`;
    const opts = options(project, { node: `/Users/u/.nvm/<v20> & 'node'/bin/node`, daemonArgs: ['--concurrency', '3', '--slots', '<a>,&b'] });
    const xml = renderLaunchdPlist(opts);
    expect(xml).not.toMatch(/@[A-Z]+@/);
    expect(parsePlist(xml)).toEqual(expectedPlist(opts));
  });

  it.skipIf(!HAS_PYTHON_PLISTLIB)("reads back the same with python's plistlib, an XML parser we did not write [skipped where python3 is not installed]", async () => {
    const opts = options(`/Users/u/${NASTY}`);
    const result = await execa('python3', ['-c', 'import json, plistlib, sys; json.dump(plistlib.loads(sys.stdin.buffer.read()), sys.stdout)'], { input: renderLaunchdPlist(opts) });
    expect(JSON.parse(result.stdout)).toEqual(expectedPlist(opts));
  });

  it.skipIf(!HAS_PLUTIL)('passes `plutil -lint` [skipped where plutil is missing: it exists only on macOS]', async () => {
    const dir = await makeTempDir('ar-plist-');
    const file = path.join(dir, 'agent.plist');
    await fs.writeFile(file, renderLaunchdPlist(options(`/Users/u/${NASTY}`)));
    await execa('plutil', ['-lint', file]);
  });

  it('refuses control characters, which XML 1.0 cannot carry', () => {
    expect(rejection(() => renderLaunchdPlist(options('/Users/u/a\u0001b'))).message).toMatch(/service file project:/);
  });
});

describe('serviceInstallPlan', () => {
  it('systemd: a user unit under ~/.config named after the project, then reload, enable, linger, logs', () => {
    const opts = { ...options('/home/u/app'), home: '/home/u' };
    const plan = serviceInstallPlan('systemd', opts);
    const unit = `autoresearch-${opts.name}.service`;
    expect(plan.path).toBe(`/home/u/.config/systemd/user/${unit}`);
    expect(plan.content).toBe(renderSystemdUnit(opts));
    expect(plan.then).toEqual([
      'systemctl --user daemon-reload',
      `systemctl --user enable --now ${unit}`,
      'loginctl enable-linger "$USER"',
      `journalctl --user -u ${unit} -f`,
    ]);
    expect(serviceInstallPlan('systemd', { ...opts, configHome: '/home/u/.cfg' }).path).toBe(`/home/u/.cfg/systemd/user/${unit}`);
  });

  it('launchd: an agent under ~/Library/LaunchAgents, then bootstrap, with shell-quoted paths', () => {
    const opts = { ...options('/Users/John Smith/app'), home: '/Users/John Smith', log: "/Users/John Smith/Library/Logs/it's.log" };
    const plan = serviceInstallPlan('launchd', opts);
    expect(plan.path).toBe(`/Users/John Smith/Library/LaunchAgents/io.autoresearch.${opts.name}.plist`);
    expect(plan.content).toBe(renderLaunchdPlist(opts));
    expect(plan.then).toEqual([
      `mkdir -p '/Users/John Smith/Library/Logs'`,
      `launchctl bootstrap gui/$(id -u) '/Users/John Smith/Library/LaunchAgents/io.autoresearch.${opts.name}.plist'`,
      `tail -f '/Users/John Smith/Library/Logs/it'\\''s.log'`,
    ]);
  });

  it('two projects with the same basename get two files', () => {
    const home = '/home/u';
    const a = serviceInstallPlan('systemd', { ...options('/home/u/a/app'), home });
    const b = serviceInstallPlan('systemd', { ...options('/home/u/b/app'), home });
    expect(a.path).not.toBe(b.path);
  });
});

describe('writeServiceFile', () => {
  it('writes a new file, leaves an identical one alone, and replaces a different one only with force', async () => {
    const home = await makeTempDir('ar-home-');
    const plan = serviceInstallPlan('systemd', { ...options('/home/u/app'), home });
    expect(await writeServiceFile(plan, { force: false })).toBe('written');
    expect(await fs.readFile(plan.path, 'utf8')).toBe(plan.content);
    expect(await writeServiceFile(plan, { force: false })).toBe('unchanged');

    await fs.writeFile(plan.path, '# edited by hand\n');
    const error = await writeServiceFile(plan, { force: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AutoresearchError);
    expect((error as AutoresearchError).message).toMatch(/already exists and differs.*--force/);
    expect(await fs.readFile(plan.path, 'utf8')).toBe('# edited by hand\n');

    expect(await writeServiceFile(plan, { force: true })).toBe('replaced');
    expect(await fs.readFile(plan.path, 'utf8')).toBe(plan.content);
  });
});

// --- helpers -------------------------------------------------------------------------

async function verifyUnit(dir: string, file: string): Promise<{ exitCode: number | undefined; stderr: string }> {
  // `--user` needs a runtime directory; CI containers often have no login session.
  const runtime = process.env.XDG_RUNTIME_DIR ?? (await fs.mkdir(path.join(dir, 'runtime'), { mode: 0o700 }), path.join(dir, 'runtime'));
  const result = await execa('systemd-analyze', ['verify', '--user', '--man=no', file], {
    reject: false,
    timeout: 20_000,
    env: { XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
  });
  return { exitCode: result.exitCode, stderr: result.stderr };
}

/** `Key=value` lines of a unit, by key (comments and section headers skipped). */
function unitDirectives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    map.set(key, [...(map.get(key) ?? []), line.slice(eq + 1)]);
  }
  return map;
}

function unescapeSpecifiers(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%') {
      if (value[i + 1] !== '%') throw new Error(`unescaped specifier %${value[i + 1]} in ${value}`);
      i++;
    }
    out += value[i];
  }
  return out;
}

/**
 * How systemd reads a command line (systemd.syntax(7), systemd.service(5)): specifiers first,
 * then words split on whitespace with "…"/'…' quoting and C escapes, then `$$` → `$` in
 * arguments (not in the executable, which systemd takes literally).
 */
function splitExecLine(line: string, opts: { expandDollars: boolean } = { expandDollars: true }): string[] {
  const text = unescapeSpecifiers(line);
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    const quote = text[i] === '"' || text[i] === "'" ? text[i++] : null;
    for (; i < text.length; i++) {
      const c = text[i] as string;
      if (quote === null && c === ' ') break;
      if (quote !== null && c === quote) {
        i++;
        if (i < text.length && text[i] !== ' ') throw new Error(`text right after a closing quote in ${line}`);
        break;
      }
      if (c === '\\') {
        if (quote === null) throw new Error(`backslash outside quotes in ${line}`);
        word += text[++i];
        continue;
      }
      if (c === '$' && opts.expandDollars && words.length > 0) {
        if (text[i + 1] !== '$') throw new Error(`unescaped $ in argument of ${line}`);
        i++;
      }
      word += c;
    }
    words.push(word);
  }
  return words;
}

function expectedPlist(opts: ServiceOptions): unknown {
  return {
    Label: `io.autoresearch.${opts.name}`,
    ProgramArguments: [opts.node, opts.cli, '--path', opts.project, 'daemon', 'start', '--foreground', ...(opts.daemonArgs ?? [])],
    WorkingDirectory: opts.project,
    EnvironmentVariables: { PATH: opts.path, AUTORESEARCH_WORKTREES: opts.worktrees },
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 10,
    ExitTimeOut: 60,
    ProcessType: 'Background',
    StandardOutPath: opts.log,
    StandardErrorPath: opts.log,
  };
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * A strict reader for the XML plist subset launchd agents use: fails on an unbalanced tag,
 * a raw `<` or `&` in text, an unknown entity, `--` in a comment or trailing content.
 */
function parsePlist(xml: string): PlistValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`not well-formed at ${i}: ${what}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const until = (end: string): string => {
    const at = xml.indexOf(end, i);
    if (at < 0) fail(`no ${end}`);
    const inside = xml.slice(i, at);
    i = at + end.length;
    return inside;
  };
  const skipMisc = (): void => {
    for (;;) {
      while (i < xml.length && ' \t\r\n'.includes(xml[i] as string)) i++;
      if (xml.startsWith('<?', i)) until('?>');
      else if (xml.startsWith('<!--', i)) {
        i += 4;
        if (until('-->').includes('--')) fail('-- inside a comment');
      } else if (xml.startsWith('<!DOCTYPE', i)) until('>');
      else return;
    }
  };
  const open = (): { name: string; empty: boolean } => {
    skipMisc();
    if (xml[i] !== '<' || xml[i + 1] === '/') fail('expected an opening tag');
    i++;
    const inner = until('>');
    const empty = inner.endsWith('/');
    return { name: (empty ? inner.slice(0, -1) : inner).trim().split(' ')[0] as string, empty };
  };
  const close = (name: string): void => {
    skipMisc();
    if (!xml.startsWith(`</${name}>`, i)) fail(`expected </${name}>`);
    i += name.length + 3;
  };
  const text = (): string => {
    let out = '';
    while (i < xml.length && xml[i] !== '<') {
      if (xml[i] === '&') {
        i++;
        const entity = until(';');
        const char = ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[entity];
        if (char === undefined) fail(`unknown entity &${entity};`);
        out += char;
      } else out += xml[i++];
    }
    return out;
  };
  const atClose = (name: string): boolean => {
    skipMisc();
    return xml.startsWith(`</${name}>`, i);
  };
  const value = (): PlistValue => {
    const { name, empty } = open();
    switch (name) {
      case 'true':
      case 'false':
        if (!empty) close(name);
        return name === 'true';
      case 'string':
      case 'integer': {
        const content = empty ? '' : text();
        if (!empty) close(name);
        return name === 'string' ? content : Number(content);
      }
      case 'array': {
        const items: PlistValue[] = [];
        while (!empty && !atClose('array')) items.push(value());
        if (!empty) close('array');
        return items;
      }
      case 'dict': {
        const dict: Record<string, PlistValue> = {};
        while (!empty && !atClose('dict')) {
          if (open().name !== 'key') fail('expected <key>');
          const key = text();
          close('key');
          dict[key] = value();
        }
        if (!empty) close('dict');
        return dict;
      }
      default:
        return fail(`unexpected <${name}>`);
    }
  };
  if (open().name !== 'plist') fail('expected <plist>');
  const result = value();
  close('plist');
  skipMisc();
  if (i !== xml.length) fail('content after </plist>');
  return result;
}
