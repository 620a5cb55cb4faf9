/**
 * The daemon's HTTP API, on 127.0.0.1 only (a free port, written to daemon.json): status for
 * anyone on this machine, control only with the token from daemon.json (mode 0600).
 *
 *   GET  /api/status             daemon + every experiment
 *   GET  /api/dashboard          the dashboard's data (what GET / polls)
 *   POST /api/pause/<d>/<n>      pause after the current iteration
 *   POST /api/resume/<d>/<n>     clear paused / tripped / blocked / a wait
 *   POST /api/reload             rescan configs (as SIGHUP)
 *   POST /api/stop               graceful stop (as SIGTERM)
 *   GET  /                       the dashboard, live
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../core/errors.js';

export interface ControlHandlers {
  status(): unknown;
  pause(id: string): Promise<boolean>; // false: no such experiment
  resume(id: string): Promise<boolean>;
  reload(): Promise<void>;
  stop(): void;
  page(): string | Promise<string>;
  dashboard(): unknown;
}

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export async function startControlServer(token: string, handlers: ControlHandlers): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { error: errorMessage(error) }));
  });
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/api/status') return send(res, 200, handlers.status());
    if (req.method === 'GET' && url.pathname === '/api/dashboard') return send(res, 200, await handlers.dashboard());
    if (req.method === 'GET' && url.pathname === '/') {
      const html = await handlers.page();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    if (req.method !== 'POST') return send(res, 404, { error: `no ${req.method} ${url.pathname}` });
    if (req.headers['x-autoresearch-token'] !== token) return send(res, 403, { error: 'expected the X-Autoresearch-Token header from daemon.json' });
    const [, api, action, ...rest] = url.pathname.split('/');
    const id = rest.join('/');
    if (api !== 'api') return send(res, 404, { error: `no POST ${url.pathname}` });
    switch (action) {
      case 'pause':
      case 'resume': {
        const found = action === 'pause' ? await handlers.pause(id) : await handlers.resume(id);
        return found ? send(res, 200, { ok: true }) : send(res, 404, { error: `no experiment ${id} in this daemon` });
      }
      case 'reload':
        await handlers.reload();
        return send(res, 200, { ok: true });
      case 'stop':
        send(res, 202, { ok: true });
        handlers.stop();
        return;
      default:
        return send(res, 404, { error: `no POST ${url.pathname}` });
    }
  }
  // Loopback only: nothing listens on another interface.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}
