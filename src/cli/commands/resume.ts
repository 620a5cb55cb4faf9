/** `autoresearch resume <id>`: clear tripped / paused / blocked so the experiment runs again. */
import { resolveExperiment } from '../../config/discover.js';
import { EXIT } from '../../core/errors.js';
import { experimentPaths } from '../../experiment/paths.js';
import { loadState, saveState } from '../../experiment/state.js';

export async function resumeCommand(opts: { projectRoot: string; id: string }, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const file = experimentPaths(found.dir).state;
  const state = await loadState(file);
  if (state === null || state.halt === null) {
    out(`${found.id.key} is not tripped, paused or blocked: nothing to resume\n`);
    return EXIT.ok;
  }
  await saveState(file, { ...state, halt: null, consecutiveCrashes: 0 }, new Date());
  out(`${found.id.key}: cleared ${state.halt.state} (${state.halt.reason}); \`autoresearch run ${found.id.key}\` continues it\n`);
  return EXIT.ok;
}
