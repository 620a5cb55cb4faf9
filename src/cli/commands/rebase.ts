/**
 * `autoresearch rebase <id> [--onto-head-only]`: move the experiment onto the project's HEAD
 * and measure its baseline there (experiment/rebase-onto-head.ts), through its run lock.
 */
import { resolveExperiment } from '../../config/discover.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { readTail } from '../../fs/read-tail.js';
import { branchName } from '../../experiment/paths.js';
import { rebaseOntoHead } from '../../experiment/rebase-onto-head.js';
import { foreground } from '../foreground.js';
import { createPrinter, fmt } from '../progress-printer.js';
import { openSteerSession } from '../steer-session.js';

export interface RebaseOptions {
  projectRoot: string;
  id: string;
  ontoHeadOnly: boolean;
}

export async function rebaseCommand(opts: RebaseOptions, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const config = await loadExperimentConfig(found.dir, found.id, found.scope);
  const printer = createPrinter(out, config.metric);
  const { deps, logger, signal, dispose } = foreground(config, printer);
  const id = config.id.key;
  try {
    const session = await openSteerSession(config, opts.projectRoot, deps, `autoresearch rebase ${id}${opts.ontoHeadOnly ? ' --onto-head-only' : ''}`);
    try {
      const r = await rebaseOntoHead(session, deps, signal, { ontoHeadOnly: opts.ontoHeadOnly });
      switch (r.kind) {
        case 'up-to-date':
          printer.line(`${id} is already based on ${r.onto}: nothing changed`);
          return EXIT.ok;
        case 'conflict':
          throw new AutoresearchError(
            'BAD_INPUT',
            `rebase ${id} onto ${r.onto}: keep ${r.keep} conflicts with it in ${r.files.length === 0 ? 'files git did not name' : r.files.join(', ')}; ` +
              `aborted, nothing changed (branch, worktree, state and results as they were).\n` +
              `  To start from ${r.onto} itself, without the keeps: autoresearch rebase ${id} --onto-head-only`,
          );
        case 'failed': {
          const tail = r.evalLog === null ? '' : readTail(r.evalLog, 1024).trimEnd();
          throw new AutoresearchError(
            'BAD_INPUT',
            `rebase ${id} onto ${r.onto}: ${r.why}; nothing changed (the experiment is still on its last keep, no row written)` +
              (r.evalLog === null ? '' : `\n  evaluation log: ${r.evalLog}${tail === '' ? '' : `\n${tail.replace(/^/gm, '  | ')}`}`),
          );
        }
        case 'rebased':
          logger.info({ kind: 'rebase', onto: r.onto, carried: r.carried, row: r.row.iteration, previousTip: r.previousTip, backupRef: r.backupRef }, r.row.description);
          printer.line(`${id}: rebased onto ${r.onto}; ${r.row.description}: ${config.metric} ${fmt(r.row.metric)} (was ${fmt(r.previous.metric)} on the old base)`);
          printer.line(`  row ${r.row.iteration}: keep baseline; improvements are counted from it`);
          printer.line(`  branch ${branchName(id)} is at ${r.row.commit}; the previous tip ${r.previousTip.slice(0, 7)} is kept as ${r.backupRef}`);
          if (r.lastKeepRef !== null) printer.line(`  the last keep ${r.previous.commit.slice(0, 7)}, which the branch no longer held (moved by hand?), is kept as ${r.lastKeepRef}`);
          return EXIT.ok;
        default: {
          const unreachable: never = r;
          return unreachable;
        }
      }
    } finally {
      await session.close();
    }
  } finally {
    dispose();
  }
}
