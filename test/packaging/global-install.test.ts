/**
 * `npm install -g <tarball>` on a fresh machine: the package ships the built dist/ (made on
 * `prepack`), so installing needs no dev dependency (no tsc). Packed from this checkout,
 * installed into a temp prefix with a clean HOME and an empty npm cache, then the installed
 * `autoresearch` runs `--version`, `init` (with its baseline), `status` and
 * `daemon install --print` (templates shipped) in a temp repository.
 *
 * The dependencies come from the npm registry (reachable in CI, where this test is
 * required); elsewhere, without a network, it is skipped loudly.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NO_NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network/i;

describe('the npm package', () => {
  it('package.json builds on prepack, not prepare (an install must not need tsc)', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[]; bin: Record<string, string> };
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    expect(pkg.bin.autoresearch).toBe('dist/cli/main.js');
  });

  it('packs dist/, the service templates and the evaluators, and installs globally on a clean HOME', async (ctx) => {
    const tmp = await makeTempDir('ar-pack-');
    // dist/ is already built (vitest's global setup): --ignore-scripts packs it as is, without
    // rebuilding under the feet of the other test files that run it.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, timeout: 60_000 });
    const [manifest] = JSON.parse(String(packed.stdout)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = (manifest?.files ?? []).map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/cli/main.js', 'daemon/autoresearch.service', 'daemon/io.autoresearch.daemon.plist', 'README.md', 'package.json']));
    expect(files.some((f) => f.startsWith('examples/evaluators/'))).toBe(true);
    expect(files.filter((f) => /^(src|test|node_modules)\//.test(f))).toEqual([]);

    const home = path.join(tmp, 'home');
    const prefix = path.join(tmp, 'prefix');
    await fs.mkdir(home);
    const npmEnv = { ...networkEnv(), PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
    const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, manifest?.filename ?? '')], {
      env: npmEnv,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    if (install.exitCode !== 0 && process.env.CI !== 'true' && (install.timedOut || NO_NETWORK.test(String(install.stderr)))) {
      console.warn(`SKIPPED: npm install -g needs the npm registry for the dependencies, and it is not reachable here:\n${install.stderr}`);
      ctx.skip();
    }
    expect(install.exitCode, String(install.stderr)).toBe(0);

    const bin = path.join(prefix, 'bin', 'autoresearch');
    const env = cliEnv({ HOME: home });
    expect(String((await execa(bin, ['--version'], { env, extendEnv: false })).stdout)).toBe('0.1.0');
    const repo = await makeRepo({ 'value.txt': '10\n', 'evaluate.sh': 'echo "score: $(cat value.txt)"\n' });
    const init = await execa(bin, ['init', 'test/x', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score'], { cwd: repo, env, extendEnv: false, reject: false });
    expect(init.exitCode, String(init.stderr)).toBe(0);
    expect(String(init.stdout)).toMatch(/baseline score: 10/);
    const status = await execa(bin, ['status', '--json'], { cwd: repo, env, extendEnv: false });
    expect(JSON.parse(String(status.stdout))).toEqual([expect.objectContaining({ id: 'test/x', state: 'new' })]);
    const unit = await execa(bin, ['daemon', 'install', '--systemd', '--print'], { cwd: repo, env, extendEnv: false });
    expect(String(unit.stdout)).toContain(`--path ${repo} daemon start --foreground`);
  }, 120_000);
});

/** The machine's way to the registry (proxy, extra CA certificates): part of a fresh machine, unlike HOME. */
function networkEnv(): Record<string, string> {
  const wanted = /^(https?_proxy|no_proxy|all_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|npm_config_(registry|proxy|https_proxy|noproxy|cafile|strict_ssl))$/i;
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => wanted.test(entry[0]) && entry[1] !== undefined));
}
