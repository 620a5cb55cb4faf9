/**
 * `autoresearch dashboard [id…] [--out FILE] [--svg FILE] [--png FILE]`: every experiment's
 * progress in one self-contained HTML file (default <project>/.autoresearch/dashboard.html),
 * and/or the progress charts as an image to paste (SVG drawn without a browser; PNG drawn
 * from it by a Chromium on PATH). Prints each written file's path on stdout, alone on its
 * line, so that `xdg-open "$(autoresearch dashboard)"` works.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DIR_NAME } from '../../config/discover.js';
import { EXIT } from '../../core/errors.js';
import { collectDashboard } from '../../dashboard/collect.js';
import { writePng } from '../../dashboard/png-export.js';
import { renderDashboardHtml } from '../../dashboard/render.js';
import { renderProgressSvg } from '../../dashboard/svg-export.js';
import { writeFileDurable } from '../../fs/durable.js';
import { ensureIgnored } from '../../experiment/gitignore.js';
import { liveDaemon } from '../daemon-client.js';

export interface DashboardCommandOptions {
  projectRoot: string;
  /** As given on the command line: relative to the current directory. */
  out: string | undefined;
  svg?: string | undefined;
  png?: string | undefined;
  /** Experiments the image shows (default: every one with a result). */
  ids?: readonly string[];
}

export async function dashboardCommand(opts: DashboardCommandOptions, out: (text: string) => void): Promise<number> {
  const data = await collectDashboard(opts.projectRoot);
  const images = opts.svg !== undefined || opts.png !== undefined;
  // Draw the image first: a wrong id or a missing browser fails before anything is written.
  const image = images ? renderProgressSvg(data, opts.ids ?? []) : null;
  if (image !== null && opts.svg !== undefined) {
    const file = path.resolve(opts.svg);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileDurable(file, image.svg);
    out(`${file}\n`);
  }
  if (image !== null && opts.png !== undefined) {
    const file = path.resolve(opts.png);
    await writePng(image.svg, image.width, image.height, file);
    out(`${file}\n`);
  }
  if (images && opts.out === undefined) return EXIT.ok;

  const defaultFile = path.join(opts.projectRoot, PROJECT_DIR_NAME, 'dashboard.html');
  const file = opts.out === undefined ? defaultFile : path.resolve(opts.out);
  const html = renderDashboardHtml(data);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Temp + rename: a browser reloading the file never reads half of it.
  await writeFileDurable(file, html);
  // A generated page in .autoresearch/ must not show in the user's `git status` (SPEC §2).
  if (file === defaultFile) await ensureIgnored(path.join(path.dirname(file), '.gitignore'), ['dashboard.html'], '# Written by autoresearch.');
  out(`${file}\n`);
  const daemon = await liveDaemon(opts.projectRoot);
  if (daemon !== null) process.stderr.write(`live at http://127.0.0.1:${daemon.port}/ (the daemon, pid ${daemon.pid})\n`);
  return EXIT.ok;
}
