/** `autoresearch resume <id>`: clear tripped / paused / blocked so the experiment runs again. */
import { resolveExperiment } from '../../config/discover.js';
import { EXIT } from '../../core/errors.js';
import { daemonRequest, liveDaemon } from '../daemon-client.js';
import { experimentPaths } from '../../experiment/paths.js';
import { leaveRequest } from '../../experiment/requests.js';
import { readLockOwner } from '../../experiment/run-lock.js';
import { loadState, saveState } from '../../experiment/state.js';
import { isSameProcessAlive } from '../../process/process-identity.js';

export async function resumeCommand(opts: { projectRoot: string; id: string }, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const info = await liveDaemon(opts.projectRoot);
  if (info !== null) {
    await daemonRequest(info, 'POST', `/api/resume/${found.id.key}`);
    out(`${found.id.key}: resumed (by the daemon, pid ${info.pid})\n`);
    return EXIT.ok;
  }
  const holder = await readLockOwner(experimentPaths(found.dir).lock);
  if (holder !== null && isSameProcessAlive(holder)) {
    // A foreground `run` holds it and owns state.json: hand the request over instead.
    leaveRequest(found.dir, 'resume');
    out(`${found.id.key}: the running \`run\` (pid ${holder.pid}) clears its wait or crash count at its next step\n`);
    return EXIT.ok;
  }
  const file = experimentPaths(found.dir).state;
  const state = await loadState(file);
  const waiting = Object.keys(state?.exhausted ?? {}).length > 0;
  if (state === null || (state.halt === null && !waiting)) {
    out(`${found.id.key} is not tripped, paused, blocked or waiting: nothing to resume\n`);
    return EXIT.ok;
  }
  // A waiting run (in the foreground or the daemon) sees this on its next tick and goes on.
  await saveState(file, { ...state, halt: null, consecutiveCrashes: 0, consecutiveNoChange: 0, exhausted: {} }, new Date());
  const what = [state.halt === null ? null : `${state.halt.state} (${state.halt.reason})`, waiting ? 'the wait for the agent quota' : null].filter(Boolean).join(' and ');
  out(`${found.id.key}: cleared ${what}; \`autoresearch run ${found.id.key}\` continues it\n`);
  return EXIT.ok;
}
