/**
 * `autoresearch logs <id> [-f]`: the agent's and the evaluation's output of the current
 * iteration (or the last one), each file under a `==> label (path) <==` line, as `tail`
 * labels several files. `-f` keeps following: new bytes as they are written, the next
 * phase's file when it appears, the next iteration when it starts, until Ctrl-C (exit 0).
 * Read from runs/<n>/ on disk: works the same for a foreground `run` and the daemon.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { resolveExperiment } from '../../config/discover.js';
import { EXIT } from '../../core/errors.js';
import { readExperimentStatus } from '../../experiment/experiment-status.js';
import { iterationOutputFiles, latestRunIteration, latestRunWithOutput } from '../../experiment/live-iteration.js';
import { experimentPaths, iterationPaths, type ExperimentPaths } from '../../experiment/paths.js';
import { followUntilInterrupted } from '../follow.js';

/** How often -f looks for new output: a few stats per tick, no busy loop. */
const POLL_MS = 200;
/** At most this much of one file per read: a huge log is streamed, never held whole. */
const CHUNK_BYTES = 1024 * 1024;

export async function logsCommand(opts: { projectRoot: string; id: string; follow: boolean }, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const paths = experimentPaths(found.dir);
  const status = await readExperimentStatus(found, Date.now());
  const printer = new LabelledPrinter(out);
  const setupRunning = status.phase === 'setup';

  if (!opts.follow) {
    if (setupRunning) printer.drain(paths.setupLog, 'setup', 0);
    const n = status.iteration ?? latestRunWithOutput(paths);
    if (n === null) {
      if (!setupRunning) out(`${found.id.key}: no iteration has started yet\n`);
      return EXIT.ok;
    }
    const dir = iterationPaths(paths, n).dir;
    const finished = fs.existsSync(iterationPaths(paths, n).result);
    out(`${found.id.key} #${n}${finished ? ' (finished)' : status.phase !== null ? ` (${status.phase}, in flight)` : ''}: ${dir}\n`);
    let printed = 0;
    for (const { file, label } of iterationOutputFiles(dir)) printed += printer.drain(file, `#${n} ${label}`, 0);
    if (printed === 0) out(`#${n}: no agent or evaluation output yet\n`);
    printer.endLine();
    return EXIT.ok;
  }

  const follower = new IterationFollower(paths, printer, setupRunning);
  follower.tick();
  await followUntilInterrupted(() => follower.tick(), POLL_MS);
  follower.tick(); // what was written up to the interrupt
  printer.endLine();
  return EXIT.ok;
}

/** Follows the newest runs/<n>/ (switching when a newer one appears) and setup.log. */
class IterationFollower {
  private current: { n: number; dir: string; ino: number } | null = null;
  private readonly offsets = new Map<string, { offset: number; ino: number; decoder: StringDecoder }>();

  constructor(
    private readonly paths: ExperimentPaths,
    private readonly printer: LabelledPrinter,
    setupRunning: boolean,
  ) {
    // setup.log from its start only while setup runs; otherwise only what a new setup writes.
    const setup = statOrNull(paths.setupLog);
    if (setup !== null && !setupRunning) this.offsets.set(paths.setupLog, { offset: setup.size, ino: setup.ino, decoder: new StringDecoder('utf8') });
  }

  tick(): void {
    this.pump(this.paths.setupLog, 'setup');
    const latest = latestRunIteration(this.paths);
    if (this.current !== null) {
      const ino = statOrNull(this.current.dir)?.ino ?? -1;
      // The rest of the iteration being left, then the next one (a restart renames an
      // interrupted runs/<n>/ aside and creates it again: a new directory, read from its start).
      this.pumpIteration(this.current);
      if (latest === this.current.n && ino === this.current.ino) return;
    }
    if (latest === null) return;
    const dir = iterationPaths(this.paths, latest).dir;
    const ino = statOrNull(dir)?.ino;
    if (ino === undefined) return;
    if (this.current !== null) for (const { file } of iterationOutputFiles(this.current.dir)) this.offsets.delete(file);
    this.current = { n: latest, dir, ino };
    for (const { file } of iterationOutputFiles(dir)) this.offsets.delete(file);
    this.pumpIteration(this.current);
  }

  private pumpIteration(current: { n: number; dir: string }): void {
    for (const { file, label } of iterationOutputFiles(current.dir)) this.pump(file, `#${current.n} ${label}`);
  }

  /** Prints what `file` gained since last time (from its start when it is new, replaced or truncated). */
  private pump(file: string, label: string): void {
    const stat = statOrNull(file);
    if (stat === null) return; // not written yet
    let seen = this.offsets.get(file);
    if (seen === undefined || seen.ino !== stat.ino || stat.size < seen.offset) {
      seen = { offset: 0, ino: stat.ino, decoder: new StringDecoder('utf8') };
      this.offsets.set(file, seen);
    }
    seen.offset += this.printer.drain(file, label, seen.offset, seen.decoder);
  }
}

/** Prints file contents under `==> label (path) <==` lines, a new one whenever the file changes. */
class LabelledPrinter {
  private lastLabel: string | null = null;
  private atLineStart = true;

  constructor(private readonly out: (text: string) => void) {}

  /** Prints `file` from `offset` to its current end; returns the bytes read. */
  drain(file: string, label: string, offset: number, decoder = new StringDecoder('utf8')): number {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return 0; // vanished meanwhile
    }
    let read = 0;
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, offset + read);
        if (n === 0) break;
        read += n;
        this.write(label, file, decoder.write(buffer.subarray(0, n)));
      }
    } finally {
      fs.closeSync(fd);
    }
    return read;
  }

  endLine(): void {
    if (!this.atLineStart) this.out('\n');
    this.atLineStart = true;
  }

  private write(label: string, file: string, text: string): void {
    if (text === '') return;
    if (label !== this.lastLabel) {
      this.endLine();
      this.out(`==> ${label} (${file}) <==\n`);
      this.lastLabel = label;
    }
    this.out(text);
    this.atLineStart = text.endsWith('\n');
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}
