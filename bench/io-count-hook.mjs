/**
 * `--import` hook for bench/iteration-cost.mjs: records every fsync/fdatasync this Node
 * process makes (with the file it was made on) and every process it starts (with its
 * argv), in order, and writes them as JSON lines to $IO_COUNT_OUT.<pid> at exit.
 *
 * Exact, and no dependency: the fs and child_process functions are wrapped in place and
 * the ESM named exports re-synced, so `import fs from 'node:fs'`, `import { spawn } from
 * 'node:child_process'` (execa) and `require('child_process')` (simple-git) all see them.
 * The git commands our long-lived shell starts (src/git/git-shell.ts) come from its
 * diagnostics channel; the shell itself is a spawn like any other.
 */
import childProcess from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const out = process.env.IO_COUNT_OUT;
const events = [];
/** fd → the path it was opened on (a file, a temp file, or a directory). */
const paths = new Map();
const originalWrite = fs.writeFileSync;

if (out) {
  const openSync = fs.openSync;
  fs.openSync = function (file, ...rest) {
    const fd = openSync.call(this, file, ...rest);
    paths.set(fd, String(file));
    return fd;
  };
  const open = fs.open;
  fs.open = function (file, ...rest) {
    const cb = rest.pop();
    return open.call(this, file, ...rest, (err, fd) => {
      if (!err) paths.set(fd, String(file));
      cb(err, fd);
    });
  };
  const openPromise = fs.promises.open;
  fs.promises.open = async function (file, ...rest) {
    const handle = await openPromise.call(this, file, ...rest);
    paths.set(handle.fd, String(file));
    const sync = handle.sync;
    const datasync = handle.datasync;
    handle.sync = function () {
      events.push({ t: 'fsync', file: String(file) });
      return sync.call(this);
    };
    handle.datasync = function () {
      events.push({ t: 'fsync', file: String(file) });
      return datasync.call(this);
    };
    return handle;
  };
  for (const name of ['fsyncSync', 'fdatasyncSync', 'fsync', 'fdatasync']) {
    const original = fs[name];
    fs[name] = function (fd, ...rest) {
      events.push({ t: 'fsync', file: paths.get(fd) ?? `fd ${fd}` });
      return original.call(this, fd, ...rest);
    };
  }
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
    const original = childProcess[name];
    childProcess[name] = function (command, args, ...rest) {
      events.push({ t: 'spawn', argv: [String(command), ...(Array.isArray(args) ? args.map(String) : [])] });
      return original.call(this, command, args, ...rest);
    };
  }
  syncBuiltinESMExports();
  // git commands a long-lived shell starts for us (src/git/git-shell.ts): processes too, just not forked by Node.
  diagnosticsChannel.subscribe('autoresearch:git-shell', (message) => {
    events.push({ t: 'spawn', argv: ['git', ...message.args.map(String)] });
  });
  process.on('exit', () => {
    originalWrite(`${out}.${process.pid}`, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  });
}
