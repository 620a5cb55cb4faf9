/**
 * How warnings reach stderr, set once at start-up by the global `--log-format`: one plain
 * line each (`text`, the default, on a terminal and on a pipe) or pino's JSON lines (`json`).
 * Its own module so that setting it does not load pino for commands that never log.
 */
export type ConsoleLogFormat = 'text' | 'json';
export const CONSOLE_LOG_FORMATS: readonly ConsoleLogFormat[] = ['text', 'json'];

let format: ConsoleLogFormat = 'text';

export function setConsoleLogFormat(value: ConsoleLogFormat): void {
  format = value;
}

export function consoleLogFormat(): ConsoleLogFormat {
  return format;
}
