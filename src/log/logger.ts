/**
 * Structured logs with pino: JSON lines to the experiment's log file (sync writes: a crash
 * must not eat the lines that explain it), and warnings on stderr as one plain line each
 * (`07:43:41 CET warning: …`), on a terminal and on a pipe alike; JSON lines there only when
 * asked (`--log-format json`). The daemon's own log (stdout: journal or daemon.log) stays JSON.
 * Logs are for diagnosis; the ledger, never pino, is the record of results.
 */
import pino, { type Logger } from 'pino';
import { clockTime } from '../core/local-time.js';
import type { LoopEvent } from '../loop/events.js';
import { consoleLogFormat, type ConsoleLogFormat } from './console-format.js';

export type { Logger };

export function createLogger(opts: {
  file: string | null;
  consoleLevel?: pino.Level | 'silent';
  name?: string;
  stdout?: boolean;
  /** Event kinds not repeated on stderr: the foreground's progress lines already say them. */
  consoleSkipKinds?: readonly string[];
}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.file !== null) streams.push({ level: 'debug', stream: pino.destination({ dest: opts.file, sync: true, mkdir: true }) });
  // The daemon's own log: JSON lines on stdout (the journal, or daemon.log when detached).
  if (opts.stdout === true) streams.push({ level: 'info', stream: ignoringErrors(pino.destination({ dest: 1, sync: true })) });
  const consoleLevel = opts.consoleLevel ?? 'warn';
  if (consoleLevel !== 'silent') {
    const stderr = ignoringErrors(pino.destination({ dest: 2, sync: true }));
    streams.push({ level: consoleLevel, stream: consoleStream(stderr, consoleLogFormat(), new Set(opts.consoleSkipKinds ?? [])) });
  }
  return pino({ level: 'debug', base: opts.name === undefined ? {} : { experiment: opts.name } }, pino.multistream(streams));
}

/**
 * A closed stdout/stderr (EPIPE from `| head`, EIO from a dropped ssh) makes a destination
 * emit 'error', which unhandled would throw out of the logging call and stop the loop.
 * The log file is written independently of these streams and keeps every line.
 */
function ignoringErrors<T extends pino.DestinationStream>(stream: T): T {
  (stream as unknown as { on?: (event: string, listener: () => void) => void }).on?.('error', () => {});
  return stream;
}

const LEVEL_WORDS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

/** pino's JSON line → what a person reads on stderr: `HH:MM:SS ZONE warning: message` (or the JSON line itself). */
function consoleStream(target: pino.DestinationStream, format: ConsoleLogFormat, skipKinds: ReadonlySet<string>): pino.DestinationStream {
  return {
    write(line: string) {
      let entry: { level?: number; time?: number; msg?: string; kind?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        target.write(line);
        return;
      }
      if (entry.kind !== undefined && skipKinds.has(entry.kind)) return;
      if (format === 'json') {
        target.write(line);
        return;
      }
      const level = LEVEL_WORDS[entry.level ?? 40] ?? 'warning';
      const message = String(entry.msg ?? '').replace(/\s*\n\s*/g, ' ');
      target.write(`${clockTime(entry.time ?? Date.now())} ${level}: ${message}\n`);
    },
  };
}

/** Every loop event becomes one log line; problems at warn level. */
export function logEvent(logger: Logger, event: LoopEvent): void {
  switch (event.kind) {
    case 'ledger-repaired':
      logger.warn(event, `repaired a torn last line of ${event.file} (${event.tornBytes} bytes saved to ${event.savedTo})`);
      return;
    case 'ledger-upgraded':
      logger.warn(event, `upgraded the header of ${event.file}: added columns ${event.to.slice(event.from.length).join(', ')} (every row kept)`);
      return;
    case 'stale-lock-recovered':
      logger.warn(event, `recovered a stale lock ${event.file} left by pid ${event.pid}`);
      return;
    case 'recovered':
      logger.warn(event, `recovered iteration ${event.iteration}: ${event.action} (${event.detail})`);
      return;
    case 'warning':
      logger.warn(event, event.message);
      return;
    case 'setup':
      if (event.status === 'failed') logger.error(event, `setup_cmd failed: ${event.detail ?? ''}`);
      else logger.info(event, `setup ${event.status}`);
      return;
    case 'halted':
      logger.warn(event, `${event.state}: ${event.reason}`);
      return;
    case 'agent-exhausted':
      logger.warn(event, `${event.agent} usage exhausted until ${event.until}: ${event.message}`);
      return;
    case 'revalidated':
      logger.info(event, event.why);
      return;
    case 'draft':
      logger.info(event, `draft of iteration ${event.iteration} ${event.action}: ${event.detail}`);
      return;
    case 'no-change-backoff':
      logger.info(event, event.reason); // the progress line says it; not a warning on stderr
      return;
    case 'waiting':
      logger.info(event, `waiting until ${event.until} for ${event.agent}`);
      return;
    case 'iteration-end':
      logger.info({ kind: event.kind, ...event.row, best: event.best, durationMs: event.durationMs }, `iteration ${event.iteration}: ${event.row.status}`);
      return;
    default:
      logger.debug(event, event.kind);
  }
}
