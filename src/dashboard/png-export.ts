/**
 * `dashboard --png`: the exported SVG (svg-export.ts) rasterised by a Chromium found on the
 * machine, with its headless `--screenshot` command line. No browser library: an installed
 * autoresearch has none, so the browser is one the user already has, or a clear error.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { AutoresearchError } from '../core/errors.js';
import { findOnPath, isExecutableFile } from '../process/find-on-path.js';

/** Looked up on PATH in this order; CHROMIUM_PATH names one explicitly. */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'] as const;
/** Pixels per SVG unit: a chart 960 wide becomes 1920 pixels, sharp when pasted. */
export const PNG_SCALE = 2;
const SCREENSHOT_TIMEOUT_MS = 60_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.CHROMIUM_PATH;
  if (explicit !== undefined && explicit !== '') return isExecutableFile(explicit) ? explicit : null;
  for (const name of CHROMIUM_NAMES) {
    const found = findOnPath(name, env);
    if (found !== null) return found;
  }
  return null;
}

/** Writes `file` as a PNG of `svg` (width × height in SVG units). */
export async function writePng(svg: string, width: number, height: number, file: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const chromium = findChromium(env);
  if (chromium === null) {
    const where = env.CHROMIUM_PATH ? `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file` : `none of ${CHROMIUM_NAMES.join(', ')} is on PATH`;
    throw new AutoresearchError('BAD_INPUT', `--png needs a Chromium or Chrome to draw the image, and ${where}. Install one (e.g. \`apt-get install chromium\`), set CHROMIUM_PATH, or use --svg FILE (no browser needed).`);
  }
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'autoresearch-png-'));
  try {
    const source = path.join(work, 'progress.svg');
    const shot = path.join(work, 'progress.png');
    await fsp.writeFile(source, svg);
    const r = await execa(
      chromium,
      [
        '--headless',
        // Our own local file, nothing else loaded; and Chromium refuses to start as root with its sandbox.
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        `--user-data-dir=${path.join(work, 'profile')}`,
        `--force-device-scale-factor=${PNG_SCALE}`,
        `--window-size=${Math.ceil(width)},${Math.ceil(height)}`,
        `--screenshot=${shot}`,
        pathToFileURL(source).href,
      ],
      { reject: false, timeout: SCREENSHOT_TIMEOUT_MS, stdin: 'ignore', env: { ...env, HOME: work } },
    );
    const png = await fsp.readFile(shot).catch(() => null);
    if (png === null || !png.subarray(0, 8).equals(PNG_SIGNATURE)) {
      const said = `${r.stderr}`.split('\n').filter((line) => line.trim() !== '' && !/dbus|bus\.cc/.test(line)).slice(-5).join('\n');
      const how = r.timedOut ? `did not finish within ${SCREENSHOT_TIMEOUT_MS / 1000} s` : `exited with ${r.exitCode ?? r.signal}`;
      throw new AutoresearchError('BAD_INPUT', `${chromium} ${how} without writing a PNG screenshot${said ? `:\n${said}` : ''}\n(--svg FILE writes the chart without a browser)`);
    }
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.copyFile(shot, file);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
