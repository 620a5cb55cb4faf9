/**
 * The `debug` simple-git imports, in the CLI bundle only (scripts/bundle-cli.mjs). simple-git
 * makes two or three loggers for every git command (`debug('simple-git')`, then
 * `.extend('task:<command>:<id>')`); debug builds each one in full even when DEBUG leaves it
 * off (a TTY check, a colour hash, property definitions): ~0.35 ms of CPU per loop iteration.
 * A logger that DEBUG does not enable is a no-op function here, as debug's own would behave;
 * one that it enables is debug's own. (DEBUG is read once, at start-up, as debug does.)
 */
import debug from 'debug';

function logger(namespace) {
  if (debug.enabled(namespace)) return debug(namespace);
  const off = () => undefined;
  off.namespace = namespace;
  off.enabled = false;
  off.extend = (child, delimiter = ':') => logger(`${namespace}${delimiter}${child}`);
  return off;
}

// `formatters`, `enable`… are debug's own objects (simple-git adds its formatters there).
export default Object.assign(logger, debug);
