/** The CLI side of the daemon's loopback API (daemon.json says where it listens and the token). */
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { daemonFiles, readLiveDaemon, type DaemonInfo } from '../daemon/daemon-files.js';

export async function liveDaemon(projectRoot: string): Promise<DaemonInfo | null> {
  return readLiveDaemon(daemonFiles(projectRoot));
}

export async function daemonRequest(info: DaemonInfo, method: 'GET' | 'POST', path: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${info.port}${path}`, {
      method,
      headers: method === 'POST' ? { 'x-autoresearch-token': info.token } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new AutoresearchError('BAD_INPUT', `the daemon (pid ${info.pid}) did not answer on 127.0.0.1:${info.port}: ${errorMessage(error)}`);
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new AutoresearchError(response.status === 404 ? 'EXPERIMENT_NOT_FOUND' : 'BAD_INPUT', `daemon: ${body.error ?? response.statusText}`);
  return body;
}
