// Prints size_bytes, size_kb and size_mb of a file, a directory or a Docker image, after an optional build step (seed: benchmark_size).
// cost: reads file sizes; runs BUILD_CMD once per evaluation when set
// metric: size_bytes lower
//
// Settings (the first one given wins): a flag, an environment variable of the same name as the
// constant below, the constant in this file (edit your copy), else the experiment's `target`.
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [--build 'npm run build'] [PATH]
// PATH (or TARGET_FILE / TARGET_DIR) is a file or a directory, relative to the current
// directory (the experiment's worktree); a directory counts every file below it. A missing
// target fails the evaluation (deleting it must not score 0 bytes). Dependency-free: Node >= 18.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_FILE = ''; // e.g. 'dist/main.js'
const TARGET_DIR = ''; // e.g. 'dist/'
const DOCKER_IMAGE = ''; // e.g. 'myapp:latest' (measured with `docker image inspect`)
const DOCKER_BUILD_CMD = ''; // e.g. 'docker build -t myapp:latest .'
const BUILD_CMD = ''; // e.g. 'npm run build' (run first; a failing build fails the evaluation)

const args = parseArgs(process.argv.slice(2), ['--build']);
const buildCmd = args['--build'] ?? process.env.BUILD_CMD ?? BUILD_CMD;
const dockerImage = process.env.DOCKER_IMAGE ?? DOCKER_IMAGE;
if (buildCmd) run(buildCmd, 'build');

let sizeBytes;
if (args.rest.length === 0 && dockerImage) {
  const dockerBuild = process.env.DOCKER_BUILD_CMD ?? DOCKER_BUILD_CMD;
  if (dockerBuild) run(dockerBuild, 'docker build');
  const inspect = spawnSync('docker', ['image', 'inspect', dockerImage, '--format', '{{.Size}}'], { encoding: 'utf8' });
  sizeBytes = Number(inspect.stdout?.trim());
  if (inspect.status !== 0 || !Number.isSafeInteger(sizeBytes)) fail(`could not read the size of docker image ${dockerImage}: ${(inspect.stderr || inspect.error?.message || inspect.stdout || '').trim().slice(0, 300)}`);
} else {
  const targets = args.rest.length > 0 ? args.rest : [process.env.TARGET_DIR || TARGET_DIR || process.env.TARGET_FILE || TARGET_FILE].filter(Boolean);
  if (targets.length === 0) targets.push(...(configValue('target') ?? '').split(',').map((t) => t.trim()).filter(Boolean));
  if (targets.length === 0) fail('expected a file or directory to measure (an argument, TARGET_FILE, TARGET_DIR or DOCKER_IMAGE, or `target:` in config.cfg), found none');
  sizeBytes = 0;
  for (const target of targets) sizeBytes += sizeOf(target);
}

console.log(`size_bytes: ${sizeBytes}`);
console.log(`size_kb: ${(sizeBytes / 1024).toFixed(1)}`);
console.log(`size_mb: ${(sizeBytes / (1024 * 1024)).toFixed(2)}`);

function sizeOf(target) {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    fail(`target not found: expected a file or directory at \`${target}\` in ${process.cwd()}, found nothing`);
  }
  if (stat.isFile()) return stat.size;
  if (!stat.isDirectory()) fail(`target \`${target}\`: expected a file or a directory, found neither`);
  let total = 0;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    const p = path.join(target, entry.name);
    if (entry.isDirectory()) total += sizeOf(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

function run(command, what) {
  const result = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2] });
  if (result.error) fail(`${what} \`${command}\` could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${what} \`${command}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`}`);
}

/** A value from the experiment's config.cfg (next to this file once `init` copied it). */
function configValue(key) {
  const dir = process.env.AUTORESEARCH_EXPERIMENT_DIR || path.dirname(fileURLToPath(import.meta.url));
  let text;
  try {
    text = readFileSync(path.join(dir, 'config.cfg'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([^:#]+?)\s*:(.*)$/.exec(line);
    if (match && match[1] === key) return match[2].trim() || undefined;
  }
  return undefined;
}

/** `--flag value` pairs for the known flags; everything after `--` (or the first other word) is `rest`. */
function parseArgs(argv, flags) {
  const out = { rest: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (flags.includes(argv[i])) {
      if (i + 1 >= argv.length) fail(`${argv[i]}: expected a value, found none`);
      out[argv[i]] = argv[++i];
    } else {
      out.rest = argv.slice(i);
      break;
    }
  }
  return out;
}

function fail(message) {
  process.stderr.write(`benchmark_size: ${message}\n`);
  process.exit(1);
}
