/**
 * `daemon install` carries --concurrency and --slots into the service file (checked with
 * systemd's own parser where it exists, always in CI), and `daemon status` tells scripts
 * that no daemon runs (exit 3); `daemon logs -f` ends when its reader does.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

const HAS_SYSTEMD_ANALYZE = (await execa('systemd-analyze', ['--version'], { reject: false })).exitCode === 0;
// In CI the unit must pass systemd's parser: a missing systemd-analyze fails there instead of skipping.
const VERIFY_UNITS = HAS_SYSTEMD_ANALYZE || process.env.CI === 'true';

describe('daemon install', () => {
  it('--print: the unit runs `daemon start --foreground --concurrency N --slots …`, the plist the same words', async () => {
    const project = await makeProject();
    const unit = await runCli(['--path', project.root, 'daemon', 'install', '--systemd', '--print', '--concurrency', '2', '--slots', '0, 1'], { env: project.env });
    expect(unit.exitCode, unit.stderr).toBe(0);
    expect(unit.stdout).toMatch(new RegExp(`^ExecStart=\\S+ \\S+ --path ${project.root} daemon start --foreground --concurrency 2 --slots 0,1$`, 'm'));
    const plain = await runCli(['--path', project.root, 'daemon', 'install', '--systemd', '--print'], { env: project.env });
    expect(plain.stdout).toMatch(/^ExecStart=.* daemon start --foreground$/m);

    const plist = await runCli(['--path', project.root, 'daemon', 'install', '--launchd', '--print', '--slots', 'a,b'], { env: project.env });
    expect(plist.exitCode, plist.stderr).toBe(0);
    expect(plist.stdout).toContain('\t\t<string>--foreground</string>\n\t\t<string>--slots</string>\n\t\t<string>a,b</string>\n\t</array>');
    const bad = await runCli(['--path', project.root, 'daemon', 'install', '--print', '--concurrency', '0'], { env: project.env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--concurrency.*expected a positive integer, found `0`/);
  });

  it.skipIf(!VERIFY_UNITS)('writes a unit that `systemd-analyze verify` accepts [skipped where systemd-analyze is missing; required when CI=true]', async () => {
    const project = await makeProject();
    const config = await makeTempDir('ar-xdg-');
    const r = await runCli(['--path', project.root, 'daemon', 'install', '--systemd', '--concurrency', '3', '--slots', '0,1,2'], { env: { ...project.env, XDG_CONFIG_HOME: config } });
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = path.join(config, 'systemd', 'user');
    const [name] = await fs.readdir(dir);
    const file = path.join(dir, name ?? '');
    expect(r.stdout).toContain(`written: ${file}`);
    expect(await fs.readFile(file, 'utf8')).toMatch(/ daemon start --foreground --concurrency 3 --slots 0,1,2\n/);
    const runtime = await makeTempDir('ar-runtime-'); // `--user` wants a runtime directory; CI has no login session
    const verify = await execa('systemd-analyze', ['verify', '--user', '--man=no', file], { reject: false, timeout: 20_000, env: { XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' } });
    expect({ exitCode: verify.exitCode, stderr: verify.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });
});

describe('daemon status without a daemon', () => {
  it('says so and exits 3, also with --json', async () => {
    const project = await makeProject();
    const text = await runCli(['--path', project.root, 'daemon', 'status'], { env: project.env });
    expect(text).toMatchObject({ exitCode: 3, stdout: 'no daemon is running for this project (`autoresearch daemon start`)' });
    const json = await runCli(['--path', project.root, 'daemon', 'status', '--json'], { env: project.env });
    expect(json.exitCode).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ daemon: null, experiments: [] });
  });
});

describe('daemon logs -f', () => {
  it('ends (exit 0) once its stdout is closed, as `daemon logs -f | head` after head exits', async () => {
    const project = await makeProject();
    const log = path.join(project.root, '.autoresearch', 'daemon.log');
    await fs.writeFile(log, 'first line\n');
    const follow = startCli(['--path', project.root, 'daemon', 'logs', '-f'], { env: project.env });
    await follow.waitFor(/first line\n/);
    follow.process.stdout?.destroy(); // the reader is gone: the next write fails with EPIPE
    await fs.appendFile(log, 'second line\n');
    expect((await follow.result()).exitCode).toBe(0);
  });
});
