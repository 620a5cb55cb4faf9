// Runs a command once and prints peak_mb and peak_kb, the peak resident memory of its whole process tree (seed: memory_usage).
// cost: runs the command once per evaluation, sampling /proc every 10 ms
// metric: peak_mb lower
//
// Settings (the first one given wins): the command after `--`, the environment variable
// COMMAND, the constant below (edit your copy).
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" -- python src/module.py
// How (Linux): every SAMPLE_MS this reads /proc for the command and all its descendants; the
// peak is the larger of (a) the highest sum of their current RSS in one sample and (b) the
// highest VmHWM (a process's own high-water mark, so a spike between samples still counts)
// of any one of them. A process that lives and dies between two samples is not seen.
// (The seed uses `/usr/bin/time -v`, which reports only the largest single process.)
// macOS has no /proc: there `/usr/bin/time -l` gives the largest single process.
// A command that fails (non-zero exit, killed) fails the evaluation: a crash, not a score.
// Dependency-free: Node >= 18.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const COMMAND = ''; // e.g. 'python src/module.py'
const SAMPLE_MS = 10;

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const command = (dash >= 0 ? argv.slice(dash + 1) : argv).join(' ') || process.env.COMMAND || COMMAND;
if (!command) fail('expected a command to measure, found none: add it after `--` in evaluate_cmd, set COMMAND in the environment, or set COMMAND in this file');

if (process.platform === 'linux') await measureLinux();
else if (process.platform === 'darwin') measureDarwin();
else fail(`unsupported platform ${process.platform}: expected Linux (/proc) or macOS (/usr/bin/time -l)`);

async function measureLinux() {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2] });
  let peakKb = 0;
  let processesSeen = 0;
  const seen = new Set();
  const sample = () => {
    let sum = 0;
    for (const pid of descendants(child.pid)) {
      const status = procStatus(pid);
      if (status === null) continue;
      sum += status.rssKb;
      peakKb = Math.max(peakKb, status.hwmKb);
      if (!seen.has(pid)) {
        seen.add(pid);
        processesSeen++;
      }
    }
    peakKb = Math.max(peakKb, sum);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  sample();
  const { code, signal, error } = await new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, error: err }));
    child.on('exit', (c, s) => resolve({ code: c, signal: s, error: null }));
  });
  clearInterval(timer);
  if (error) fail(`\`${command}\` could not start: ${error.message}`);
  if (code !== 0) fail(`\`${command}\` ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: no memory figure for a failed run`);
  if (peakKb === 0) fail(`\`${command}\` finished before it could be sampled (under ${SAMPLE_MS} ms): nothing measured`);
  process.stderr.write(`memory_usage: ${processesSeen} process(es) seen, sampled every ${SAMPLE_MS} ms from /proc\n`);
  print(peakKb);
}

function measureDarwin() {
  const result = spawnSync('/usr/bin/time', ['-l', '/bin/sh', '-c', command], { stdio: ['ignore', 2, 'pipe'], encoding: 'utf8' });
  process.stderr.write(result.stderr ?? '');
  if (result.error) fail(`/usr/bin/time could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`\`${command}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`}: no memory figure for a failed run`);
  const match = /(\d+)\s+maximum resident set size/i.exec(result.stderr ?? '');
  if (!match) fail('could not find "maximum resident set size" in the output of /usr/bin/time -l');
  print(Math.round(Number(match[1]) / 1024)); // bytes on macOS
}

function print(kb) {
  console.log(`peak_mb: ${(kb / 1024).toFixed(1)}`);
  console.log(`peak_kb: ${kb}`);
}

/** `root` and every process below it, from the parent links in /proc/<pid>/stat. */
function descendants(root) {
  const children = new Map();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Field 4 (ppid) follows the `(comm)` field, which may itself hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function procStatus(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function fail(message) {
  process.stderr.write(`memory_usage: ${message}\n`);
  process.exit(1);
}
