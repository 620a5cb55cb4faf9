/**
 * The `bin` is an esbuild bundle (scripts/bundle-cli.mjs, run by `npm run build`): dist/cli/main.js
 * plus chunks under dist/cli/chunks that each command imports when it runs. A chunk that breaks
 * only when loaded (a bundled CommonJS dependency calling require at load time, a path computed
 * from import.meta.url) would show only in the command that needs it, so every chunk is loaded
 * here, and the entry is run as a user runs it: executed directly (its shebang), --version and --help.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

const CHUNKS = path.join(path.dirname(CLI), 'chunks');

describe('the bundled CLI (dist/cli/main.js)', () => {
  it('is a bundle: it imports its own chunks and Node built-ins, no module of dist/ or node_modules/', () => {
    const source = fs.readFileSync(CLI, 'utf8');
    expect(source.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    // Import statements (at a statement's start) and import("…") calls; not text that merely says `from '…'`.
    const statements = /(?:^|[;\n])\s*import\s*(?:[\w*{][^;]*?\bfrom\s*)?["']([^"']+)["']/g;
    const calls = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
    const specifiers = [...source.matchAll(statements), ...source.matchAll(calls)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s, `import of ${s}`).toMatch(/^(\.\/chunks\/|node:)/);
  });

  it('runs from its shebang: --version and --help', async () => {
    const version = await execa(CLI, ['--version'], { reject: false });
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout).toBe(JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', '..', 'package.json'), 'utf8')).version);
    const help = await execa(CLI, ['--help'], { reject: false });
    expect(help.exitCode, help.stderr).toBe(0);
    for (const command of ['init', 'run', 'status', 'results', 'daemon', 'dashboard']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it("races each git command against a promise of its own, not simple-git's shared one that leaked a reaction per command (scripts/bundle-cli.mjs)", () => {
    const chunks = fs.readdirSync(CHUNKS).filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(CHUNKS, f), 'utf8'));
    const completion = chunks.filter((source) => source.includes('events.closeTimeout.promise'));
    expect(completion).toHaveLength(1);
    // The minifier may rename a local that another module in the chunk also names (onExit2).
    expect(completion[0]).toMatch(/onClose[\w$]*===!1\?\(0,[\w$]+\.deferred\)\(\)\.promise:events\.closeTimeout\.promise/);
    expect(completion[0]).toMatch(/onExit[\w$]*===!1\?\(0,[\w$]+\.deferred\)\(\)\.promise:events\.exitTimeout\.promise/);
    expect(completion[0]).not.toMatch(/\?never:events\./);
  });

  it("simple-git's debug logging still answers DEBUG (its loggers are no-ops only when DEBUG leaves them off: scripts/bundle-shims/)", async () => {
    const project = await makeProject({ config: { agent: 'none' } });
    const quiet = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/simple-git/);
    const logged = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: { ...project.env, DEBUG: 'simple-git*' } });
    expect(logged.exitCode, logged.stderr).toBe(0);
    // debug's own format: the namespace, then the message (one logger per git command).
    expect(logged.stderr).toMatch(/simple-git:task:rev-parse:\d+ Adding task to the queue/);
  });

  it('every chunk loads (each command imports its own when it runs)', async () => {
    const files = fs.readdirSync(CHUNKS).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(1);
    const script = `for (const f of ${JSON.stringify(files.map((f) => path.join(CHUNKS, f)))}) await import(f); console.log('loaded');`;
    const r = await execa('node', ['--input-type=module', '-e', script], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('loaded');
  });
});
