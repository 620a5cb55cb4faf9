/**
 * Structured logs with pino: JSON lines to the experiment's log file (sync writes: a crash
 * must not eat the lines that explain it), and warnings on stderr — readable on a TTY,
 * JSON otherwise. Logs are for diagnosis; the ledger, never pino, is the record of results.
 */
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { LoopEvent } from '../loop/events.js';

export type { Logger };

export function createLogger(opts: { file: string | null; consoleLevel?: pino.Level | 'silent'; name?: string; stdout?: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.file !== null) streams.push({ level: 'debug', stream: pino.destination({ dest: opts.file, sync: true, mkdir: true }) });
  // The daemon's own log: JSON lines on stdout (the journal, or daemon.log when detached).
  if (opts.stdout === true) streams.push({ level: 'info', stream: pino.destination({ dest: 1, sync: true }) });
  const consoleLevel = opts.consoleLevel ?? 'warn';
  if (consoleLevel !== 'silent') {
    const stream = process.stderr.isTTY ? prettyStream() : pino.destination({ dest: 2, sync: true });
    streams.push({ level: consoleLevel, stream });
  }
  return pino({ level: 'debug', base: opts.name === undefined ? {} : { experiment: opts.name } }, pino.multistream(streams));
}

/** pino-pretty is only loaded for a terminal: a service never pays for it. */
function prettyStream(): pino.DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: Record<string, unknown>) => pino.DestinationStream;
  return pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' });
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
