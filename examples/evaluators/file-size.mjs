// Prints `<metric>: <total bytes>` of the target files (paths, directories or globs); --gzip counts gzipped bytes.
// cost: reads file sizes (gzips them with --gzip); runs nothing
//
// Usage (as evaluate_cmd in config.cfg; it runs in the experiment's worktree):
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs"                     sizes the config's `target`
//   npm run build && node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" --gzip dist/app.js
// Paths are relative to the working directory; globs support *, ** , ? and {a,b}. A path or
// glob that matches nothing is an error (deleting the target must not score 0 bytes).
// The metric name comes from --metric, else $AUTORESEARCH_METRIC, else the `metric:` line of
// the experiment's config.cfg, else `bytes`. Dependency-free: needs only Node >= 18.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const SKIP_DIRS = new Set(['.git', 'node_modules']);

let gzip = false;
let metric;
const patterns = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--gzip') gzip = true;
  else if (argv[i] === '--metric') metric = argv[++i];
  else if (argv[i] !== '--') patterns.push(argv[i]);
}
if (patterns.length === 0) {
  const target = configValue('target');
  if (!target) fail('expected paths as arguments or a `target:` line in config.cfg, found neither');
  patterns.push(...target.split(',').map((item) => item.trim()).filter(Boolean));
}
metric ??= process.env.AUTORESEARCH_METRIC || configValue('metric') || 'bytes';

const files = new Set();
for (const pattern of patterns) {
  const matched = /[*?{]/.test(pattern) ? expandGlob(pattern) : expandPath(pattern);
  if (matched.length === 0) fail(`expected \`${pattern}\` to match at least one file, found none in ${process.cwd()}`);
  for (const file of matched) files.add(file);
}

let total = 0;
for (const file of files) total += gzip ? gzipSync(readFileSync(file), { level: 9 }).length : statSync(file).size;
process.stderr.write(`file-size: ${files.size} file(s)${gzip ? ', gzipped' : ''}\n`);
console.log(`${metric}: ${total}`);

function expandPath(p) {
  let stat;
  try {
    stat = statSync(p);
  } catch {
    return [];
  }
  if (stat.isFile()) return [path.normalize(p)];
  if (stat.isDirectory()) return walk(p);
  return [];
}

function expandGlob(pattern) {
  const regex = globToRegExp(pattern);
  return walk('.').filter((file) => regex.test(file));
}

/** Every file under `dir`, as normalised relative paths with `/` separators. */
function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = dir === '.' ? entry.name : path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...walk(p));
    } else if (entry.isFile()) {
      out.push(p.split(path.sep).join('/'));
    }
  }
  return out;
}

function globToRegExp(glob) {
  let source = '';
  let braces = 0;
  const normalised = glob.replace(/^\.\//, '');
  for (let i = 0; i < normalised.length; i++) {
    const c = normalised[i];
    if (c === '*' && normalised[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` matches everything below.
      if (normalised[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '{') {
      source += '(?:';
      braces++;
    } else if (c === '}' && braces > 0) {
      source += ')';
      braces--;
    } else if (c === ',' && braces > 0) source += '|';
    else source += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
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

function fail(message) {
  process.stderr.write(`file-size: ${message}\n`);
  process.exit(1);
}
