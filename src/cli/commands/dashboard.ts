/**
 * `autoresearch dashboard [--out FILE]`: every experiment's progress in one self-contained
 * HTML file (default <project>/.autoresearch/dashboard.html). Prints the file's path on
 * stdout, alone, so that `xdg-open "$(autoresearch dashboard)"` works.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DIR_NAME } from '../../config/discover.js';
import { EXIT } from '../../core/errors.js';
import { collectDashboard } from '../../dashboard/collect.js';
import { renderDashboardHtml } from '../../dashboard/render.js';
import { writeFileDurable } from '../../fs/durable.js';
import { ensureIgnored } from '../../experiment/gitignore.js';
import { liveDaemon } from '../daemon-client.js';

export interface DashboardCommandOptions {
  projectRoot: string;
  /** As given on the command line: relative to the current directory. */
  out: string | undefined;
}

export async function dashboardCommand(opts: DashboardCommandOptions, out: (text: string) => void): Promise<number> {
  const defaultFile = path.join(opts.projectRoot, PROJECT_DIR_NAME, 'dashboard.html');
  const file = opts.out === undefined ? defaultFile : path.resolve(opts.out);
  const html = renderDashboardHtml(await collectDashboard(opts.projectRoot));
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
