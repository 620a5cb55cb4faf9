#!/usr/bin/env node
/**
 * `npm run build`, after tsc: replaces dist/cli/main.js (the `bin`) with an esbuild bundle of
 * src/cli/main.ts and its dependencies, split at the CLI's dynamic imports into
 * dist/cli/chunks/. Why: start-up. Unbundled, `run --single` resolves, reads and compiles
 * ~330 files (execa alone is ~100) before its first git command; bundled, a handful of
 * chunks, and each command still loads only its own (a `status` never parses the loop, a
 * `run` never the dashboard). The rest of dist/ stays as tsc wrote it (tests import modules
 * from it); only the CLI process runs the bundle.
 *
 * Paths the code computes from import.meta.url keep working: the chunks sit in dist/cli/chunks,
 * so `new URL('../main.js', import.meta.url)` (the daemon's own CLI) is still dist/cli/main.js,
 * and the walk up to package.json (evaluators, service templates) still finds the package root.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * simple-git's completion plugin races every command against one module-wide promise that
 * never settles (`never`) when `completion.onExit` is false, which git-client.ts sets so that a
 * command ends on 'close', never on 'exit' with its output half read. Each race leaves a
 * reaction on that promise for good: ~0.3 kB per git command, five per iteration, for as long
 * as the process lives (a daemon's heap grew ~2 MB per 1,400 iterations). Here each race gets
 * a promise of its own that never settles, collected with the race once the command is done.
 * The build fails if simple-git's code no longer reads as expected (upgrade: check the leak).
 */
const neverPerRace = {
  name: 'simple-git-never-per-race',
  setup(build) {
    build.onLoad({ filter: /[\\/]simple-git[\\/]dist[\\/]esm[\\/]index\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const shared = ['onClose === false ? never : events.closeTimeout.promise', 'onExit === false ? never : events.exitTimeout.promise'];
      if (!shared.every((text) => source.includes(text))) {
        throw new Error(`${args.path}: simple-git's completion plugin no longer races against its shared \`never\` as expected; re-check the leak this build works around (scripts/bundle-cli.mjs)`);
      }
      let patched = source;
      for (const text of shared) patched = patched.replace(text, text.replace('? never :', '? deferred().promise :'));
      return { contents: patched, loader: 'js' };
    });
  },
};
/** simple-git's `debug`: no logger built for a namespace DEBUG leaves off (scripts/bundle-shims/simple-git-debug.mjs says why). */
const simpleGitDebugOff = {
  name: 'simple-git-debug-off',
  setup(build) {
    const shim = path.join(root, 'scripts', 'bundle-shims', 'simple-git-debug.mjs');
    build.onResolve({ filter: /^debug$/ }, (args) => (/[\\/]simple-git[\\/]/.test(args.importer) ? { path: shim } : undefined));
  },
};
const outdir = path.join(root, 'dist', 'cli');
fs.rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Smaller files parse faster. Identifiers are not minified, so functions and classes keep
  // their names in stack traces; only the few that esbuild renames to avoid a collision
  // (`Git2`) differ. No keepNames: it wraps every function and class in a __name() call,
  // ~10 ms of start-up and ~1 ms of CPU per loop iteration (bench/loop-overhead.mjs).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // The bundled CommonJS dependencies (commander, pino, simple-git…) call require() for Node's
  // own modules: give every output file a real one.
  banner: { js: "import { createRequire as __autoresearchCreateRequire } from 'node:module'; const require = __autoresearchCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [neverPerRace, simpleGitDebugOff],
});
fs.chmodSync(path.join(outdir, 'main.js'), 0o755);
