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
 *
 * Any local user can connect, and a web page can make the browser connect too, so the server is
 * bounded and answers only what is addressed to it: at most MAX_CONNECTIONS sockets (more are
 * dropped at accept), headers within HEADERS_TIMEOUT_MS, bodies up to MAX_BODY_BYTES (413), and
 * only a `Host:` that is a loopback name (DNS rebinding gets 421). No error of a socket or
 * of accept (EMFILE) stops the daemon: it is logged and the server goes on.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

/** Sockets held at once; beyond, new connections are closed at accept (far below any fd limit). */
export const MAX_CONNECTIONS = 128;
/** A client that has not sent its whole request head by then is cut off (slowloris). */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** The API takes no body; anything larger than this is refused with 413. */
export const MAX_BODY_BYTES = 16 * 1024;
const MAX_HEADER_BYTES = 8 * 1024;

/** Problems of the control port, reported to the daemon's log (never thrown). */
export type ControlServerLog = (message: string, error: unknown) => void;

export async function startControlServer(token: string, handlers: ControlHandlers, log: ControlServerLog = () => {}): Promise<ControlServer> {
  let port = 0;
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: errorMessage(error) }));
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.keepAliveTimeout = 5_000;
  // Accept errors (EMFILE, ENFILE) come here after listen: log them (at most once a second) and go on.
  const throttled = throttle(log, 1_000);
  server.on('error', (error) => throttled('control port: accept failed, going on', error));
  server.on('connection', (socket: Socket) => socket.on('error', () => {})); // a reset peer is not our problem
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed or too slow requests: answer if the socket still takes it, then close.
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.destroy();
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.on('error', () => {});
    res.on('error', () => {});
    if (!isLoopbackHost(req.headers.host)) {
      return send(res, 421, { error: `expected Host 127.0.0.1:${port}, localhost:${port} or [::1]:${port} (this server answers loopback names only), found ${JSON.stringify(req.headers.host ?? null)}` }, true);
    }
    if (!(await readBodyWithin(req, MAX_BODY_BYTES))) return send(res, 413, { error: `expected no request body (at most ${MAX_BODY_BYTES} bytes)` }, true);
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
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The Host header names a loopback host: 127.0.0.1, localhost or [::1], with any port (an SSH
 * tunnel forwards another local port). A page whose own name was rebound to 127.0.0.1 sends its
 * own name here, so it is refused.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const m = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?$/i.exec(host);
  return m !== null;
}

/** Reads and drops the request body; false as soon as it exceeds `limit` bytes (or says it will). */
function readBodyWithin(req: http.IncomingMessage, limit: number): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(false);
  if (req.complete) return Promise.resolve(true);
  return new Promise((resolve) => {
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        req.off('data', onData);
        req.pause();
        resolve(false);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(true));
    req.once('close', () => resolve(bytes <= limit));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, closeAfter = false): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (closeAfter) headers.connection = 'close'; // the rest of the request is not read
  res.writeHead(status, headers);
  res.end(JSON.stringify(body, null, 2) + '\n', () => {
    if (closeAfter) res.socket?.destroy();
  });
}

function throttle(log: ControlServerLog, everyMs: number): ControlServerLog {
  let last = 0;
  let skipped = 0;
  return (message, error) => {
    const now = Date.now();
    if (now - last < everyMs) {
      skipped++;
      return;
    }
    last = now;
    log(skipped > 0 ? `${message} (${skipped} more since the last report)` : message, error);
    skipped = 0;
  };
}
