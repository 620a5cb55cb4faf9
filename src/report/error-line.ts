/**
 * The one line of a log that says why a process failed (issue 10, "say why"). Pure: text in,
 * a line out. Used for a row's `detail` (loop/row-detail.ts) and by the failure triage of
 * `report` (classify-failure.ts), which reads the same log tails.
 *
 * In order of preference:
 *  1. an exception line: the last one (Python's final `ValueError: …` after a traceback, node's
 *     `Error: …` / `SyntaxError: …`), with where it was raised in user code, `(train.py:41)`;
 *  2. pytest's `FAILED tests/test_x.py::test_y - …` (the first);
 *  3. a machine error (`command not found`, a full disk, no GPU: MACHINE_ERRORS);
 *  4. the first line that says error / failed / fatal / panic / … near the end;
 *  5. the last line.
 * Never: blank lines, progress bars, traceback headers and frames, node stack frames, the
 * source-and-caret lines both print.
 */

/** Texts that only a broken machine or tool prints (classify-failure.ts calls these infrastructure). */
export const MACHINE_ERRORS: ReadonlyArray<readonly [RegExp, string]> = [
  [/command not found/i, 'command not found'], // bash, zsh
  [/^\S+: \d+: (?:[^\s:]+: )+not found$/m, 'command not found'], // dash: "sh: 1: python9: not found", "x.sh: 3: eval: python9: not found"
  [/^(?:\/usr\/bin\/)?env: .*No such file or directory$/m, 'interpreter not found'], // a shebang's `env python3`
  [/No space left on device/i, 'disk full'],
  [/Disk quota exceeded/i, 'disk quota exceeded'],
  [/Read-only file system/i, 'read-only file system'],
  [/(?:can(?:no|')t|could not|unable to) fork|fork: Resource temporarily unavailable/i, 'cannot start processes'],
  [/CUDA-capable device(?:s|\(s\))? (?:is|are) busy or unavailable|no CUDA-capable device is detected/i, 'GPU unavailable'],
];

/** What a detail line is cut to, `…` included. */
export const ERROR_LINE_MAX_CHARS = 160;

/** How far from the end a keyword line still counts as the cause (an early warning that did not stop the run is not). */
const KEYWORD_WINDOW_LINES = 30;

// Terminal colour and cursor codes, as `npm`, `cargo` or `rich` print them even into a file.
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/**
 * `SomeError: message`, `pkg.mod.SomeError: message`, `Error [ERR_X]: message`, a bare
 * `KeyboardInterrupt`: an exception as Python's traceback and node's uncaught handler end with.
 */
const EXCEPTION_LINE = /^(?:Uncaught )?(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Interrupt|Exit|Fault)|Error|StopIteration)(?: \[[\w.-]+\])?(?::(?:\s.*)?)?$/;
const PYTEST_FAILED = /^FAILED \S+/;
const ERROR_WORDS = /(?:\b|[a-z])(?:error|exception)s?\b|\b(?:failed|failure|fatal|panic(?:ked)?|abort(?:ed)?|segmentation fault|core dumped|out of memory|killed|denied|cannot|unable to)\b/i;
const WARNING = /\bwarn(?:ing)?\b/i;

const PYTHON_TRACEBACK = /^Traceback \(most recent call last\):$/;
const PYTHON_FRAME = /^\s+File "([^"]+)", line (\d+)/;
const PYTHON_CHAIN = /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)$/;
const NODE_FRAME = /^\s+at (?:.*\((.+?):(\d+):\d+\)|(.+?):(\d+):\d+)$/;
/** Node prints where an uncaught error was thrown as `path:line`, then the source line and a caret. */
const NODE_THROW_SITE = /^((?:file:\/\/)?(?:\/|[A-Za-z]:\\)\S*?):(\d+)$/;
const NODE_VERSION = /^Node\.js v\d+/;
const CARET = /^\s*[\^~]+\s*$/;
/** Code that is not the user's: where an error was raised inside it says little. */
const LIBRARY_PATH = /(?:site-packages|dist-packages|node_modules)[\\/]|[\\/]lib[\\/]python\d|^<frozen |^node:|^internal[\\/]|^<\w+>$/;

/** The log's lines as a terminal showed them: `\r`-redrawn lines reduced to what was shown last, colours removed, blank lines dropped. */
export function visibleLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const segments = raw.replace(/\r+$/, '').split('\r');
    const line = (segments.at(-1) ?? '').replace(ANSI_ESCAPE, '').trimEnd();
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}

/** The line that says why the process failed, at most `max` characters; null when the log has no text. */
export function errorLine(text: string, max = ERROR_LINE_MAX_CHARS): string | null {
  const lines = visibleLines(text);
  const candidates = lines.map((line, i) => ({ line, i })).filter(({ line, i }) => !isNoise(lines, i, line));
  if (candidates.length === 0) return null;

  for (let k = candidates.length - 1; k >= 0; k--) {
    const { line, i } = candidates[k] ?? { line: '', i: 0 };
    const trimmed = line.trim();
    if (!EXCEPTION_LINE.test(trimmed) || /^\s/.test(line)) continue;
    const where = raisedAt(lines, i);
    return clip(trimmed, max, where === null || trimmed.includes(where.split(':')[0] ?? '') ? '' : ` (${where})`);
  }
  const pytest = candidates.find(({ line }) => PYTEST_FAILED.test(line));
  if (pytest !== undefined) return clip(pytest.line.trim(), max);

  const recent = candidates.slice(-KEYWORD_WINDOW_LINES);
  const machine = recent.find(({ line }) => MACHINE_ERRORS.some(([pattern]) => pattern.test(line.trim())));
  if (machine !== undefined) return clip(machine.line.trim(), max);
  const keyword = recent.find(({ line }) => ERROR_WORDS.test(line) && !WARNING.test(line));
  if (keyword !== undefined) return clip(keyword.line.trim(), max);
  return clip((candidates.at(-1)?.line ?? '').trim(), max);
}

/** The last visible line that is not a progress bar, at most `max` characters; null when there is none. */
export function lastLine(text: string, max = ERROR_LINE_MAX_CHARS): string | null {
  const line = visibleLines(text)
    .filter((l) => !isProgressBar(l))
    .at(-1);
  return line === undefined ? null : clip(line.trim(), max);
}

/** `text` cut to `max` characters with `…`, `suffix` (a location) always kept whole. */
export function clip(text: string, max: number, suffix = ''): string {
  const room = max - suffix.length;
  if (text.length <= room) return text + suffix;
  return `${text.slice(0, Math.max(0, room - 1)).trimEnd()}…${suffix}`;
}

/** A line that never explains a failure by itself: frames, headers, carets, progress bars. */
function isNoise(lines: readonly string[], i: number, line: string): boolean {
  const trimmed = line.trim();
  if (PYTHON_TRACEBACK.test(trimmed) || PYTHON_CHAIN.test(trimmed) || PYTHON_FRAME.test(line) || NODE_FRAME.test(line)) return true;
  if (NODE_VERSION.test(trimmed) || NODE_THROW_SITE.test(trimmed) || CARET.test(line) || isProgressBar(line)) return true;
  // The source line a Python frame or a node throw site shows under it.
  const previous = lines[i - 1] ?? '';
  if (/^\s/.test(line) && PYTHON_FRAME.test(previous)) return true;
  if (NODE_THROW_SITE.test(previous.trim())) return true;
  return false;
}

/** tqdm (`45%|████▌     | 45/100`), keras (`12/100 [==>....]`), or a line made mostly of bar characters. */
function isProgressBar(line: string): boolean {
  if (/\d+%\|/.test(line) || /\[[=>.\-# ]{8,}\]/.test(line)) return true;
  const bar = line.match(/[█▏▎▍▌▋▊▉░▒▓■□━─#=]/g)?.length ?? 0;
  return line.length >= 10 && bar / line.length > 0.4;
}

/**
 * Where the exception at `i` was raised in the user's own code, as `file:line` (base name):
 * Python's innermost non-library frame above it (a SyntaxError's frame is the file it could not
 * parse), node's throw site above it or first non-library frame below it.
 */
function raisedAt(lines: readonly string[], i: number): string | null {
  // Node: `path:line`, the source line and a caret, right above the error.
  for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
    const line = lines[j] ?? '';
    const site = NODE_THROW_SITE.exec(line.trim());
    if (site !== null) {
      if (!LIBRARY_PATH.test(site[1] ?? '')) return `${baseName(site[1] ?? '')}:${site[2]}`;
      break;
    }
    // Only the caret and the source line (right under the site) stand between them.
    if (!CARET.test(line) && !NODE_THROW_SITE.test((lines[j - 1] ?? '').trim())) break;
  }
  // Python: the traceback's frames right above it (indented), innermost last.
  for (let j = i - 1; j >= 0 && /^\s/.test(lines[j] ?? ''); j--) {
    const frame = PYTHON_FRAME.exec(lines[j] ?? '');
    if (frame !== null && !LIBRARY_PATH.test(frame[1] ?? '')) return `${baseName(frame[1] ?? '')}:${frame[2]}`;
  }
  // Node: the stack below it, innermost first.
  for (let j = i + 1; j < lines.length; j++) {
    const frame = NODE_FRAME.exec(lines[j] ?? '');
    if (frame === null) break;
    const file = frame[1] ?? frame[3] ?? '';
    if (!LIBRARY_PATH.test(file)) return `${baseName(file)}:${frame[2] ?? frame[4]}`;
  }
  return null;
}

function baseName(file: string): string {
  return file.replace(/^file:\/\//, '').split(/[\\/]/).at(-1) ?? file;
}
