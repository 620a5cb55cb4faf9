/** `autoresearch report <id> [--out DIR]`: failure triage and a summary of what worked, as Markdown files. */
import path from 'node:path';
import { resolveExperiment } from '../../config/discover.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import { EXIT } from '../../core/errors.js';
import { writeReport } from '../../report/build-report.js';
import { byState, reportWarnings, rerunCommandLine } from '../../report/render.js';

export async function reportCommand(opts: { projectRoot: string; id: string; out: string | undefined }, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const config = await loadExperimentConfig(found.dir, found.id, found.scope);
  const report = await writeReport({
    projectRoot: opts.projectRoot,
    config,
    outDir: opts.out === undefined ? null : path.resolve(opts.out),
    now: new Date(),
  });
  out(`${report.readme}\n`);
  const { analysis } = report;
  const classes = [...analysis.byClass].map(([cls, members]) => `${members.length} ${cls.replaceAll('_', ' ')}`);
  out(`  ${analysis.summary.iterations} iterations, ${analysis.keeps.length} keeps; failures: ${classes.length === 0 ? 'none' : classes.join(', ')}\n`);
  if (report.infrastructure.length > 0) {
    out(`  cluster: ${report.infrastructure.length} evaluation job${report.infrastructure.length === 1 ? '' : 's'} ended by the cluster (${byState(report.infrastructure)}), no rows\n`);
  }
  for (const warning of reportWarnings(analysis, config)) out(`  warning: ${warning}\n`);
  if (analysis.rerun.length > 0) {
    // The README's command is for the project root; this one works from wherever `report` ran.
    const root = path.resolve(opts.projectRoot) === process.cwd() ? undefined : path.resolve(opts.projectRoot);
    out(`  re-run the infrastructure failures once fixed: ${rerunCommandLine(config.id.key, analysis.rerun, root)}\n`);
  }
  return EXIT.ok;
}
