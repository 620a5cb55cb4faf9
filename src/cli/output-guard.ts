/**
 * A closed terminal or pipe never stops a command: `run … | head`, `results | head`, a
 * dropped ssh session. Writing to such a stream fails with EPIPE (or EIO for a hung-up
 * terminal); unhandled, that error would kill the process mid-iteration, leaving run.lock,
 * the intent and the evaluation behind. Every error of stdout/stderr is absorbed here and
 * the stream is written no more; the experiment's log file still gets every line.
 */

const closed = new WeakSet<NodeJS.WriteStream>();

/** Installs the handlers on process.stdout and process.stderr (once, at start-up, for every command). */
export function guardStandardStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      // EPIPE, EIO, ENOSPC on a redirect…: output is for the user, never a reason to stop.
      closed.add(stream);
    });
  }
}

/** Whether writing to `stream` is still worth it (no error seen on it yet). */
export function isOpen(stream: NodeJS.WriteStream): boolean {
  return !closed.has(stream) && !stream.destroyed;
}

/** `stream.write`, skipped once the stream has failed. */
export function writeTo(stream: NodeJS.WriteStream, text: string): void {
  if (isOpen(stream)) stream.write(text);
}
