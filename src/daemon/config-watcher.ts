/**
 * Watches the experiment directories for config changes. chokidar's events are hints (an
 * editor's atomic save is unlink + rename; some platforms drop renames): every burst of
 * events, debounced, triggers a full rescan that diffs the tree instead of trusting the
 * event type. Daemon-owned files (ledger, state, logs, runs/) are ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

const DEBOUNCE_MS = 300;
const WATCHED = new Set(['config.cfg', 'program.md']);

export interface ConfigWatcher {
  close(): Promise<void>;
}

export function watchConfigs(roots: readonly string[], onChange: () => void, onError: (error: unknown) => void): ConfigWatcher {
  const existing = roots.filter((root) => fs.existsSync(root));
  let timer: NodeJS.Timeout | undefined;
  const hint = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  };
  const watcher: FSWatcher = watch(existing, {
    ignoreInitial: true,
    depth: 3, // <root>/<domain>/<name>/config.cfg
    ignored: (file, stats) => {
      const base = path.basename(file);
      if (base === 'runs' || base.startsWith('.')) return !existing.includes(file);
      return stats?.isFile() === true && !WATCHED.has(base);
    },
  });
  watcher.on('all', hint);
  watcher.on('error', onError);
  return {
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
