import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleAdminRequest } from './admin';
import { handleApiRequest } from './api';
import { handleChallengeRequest } from './challenge-page';
import { createCore } from './core';
import { ApiError, invalidRequest, unrecognizedUrl, withRequestLog } from './errors';
import { BodyTooLargeError, errorJson, readBody, sendJson } from './http';
import { nowSeconds, randomId } from './ids';
import { isValidLatency, MAX_LATENCY_MS } from './store';
import { CHALLENGE_PATH } from './three-d-secure';
import type { EmulatorOptions, StripeEmulator } from './types';

export function checkLatency(ms: unknown): number {
  if (!isValidLatency(ms))
    throw new RangeError(`latencyMs must be a number between 0 and ${MAX_LATENCY_MS}.`);
  return ms;
}

/** Starts a stateful Stripe API emulator (PaymentIntents, events, webhooks, faults) on an HTTP port. */
export async function startStripeEmulator(options: EmulatorOptions = {}): Promise<StripeEmulator> {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new RangeError(`port must be an integer between 0 and 65535, got ${requestedPort}.`);
  }
  const core = createCore(options);
  const { state, faults, delays } = core;
  const sockets = new Set<Socket>();
  let emulator: StripeEmulator | null = null;

  const server = createServer((req, res) => {
    // Every response outside /_emulator/ is a Stripe API answer: it carries a Request-Id, and an
    // error body names it in `request_log_url`.
    const request = { id: randomId('req', 14), atSeconds: nowSeconds() };
    const stripeError = (error: ApiError, headers: Record<string, string> = {}) =>
      sendJson(res, error.status, errorJson(withRequestLog(error.body, request.id, request.atSeconds)), {
        'Request-Id': request.id,
        ...headers,
      });
    handle(req, res, request, stripeError).catch((err: unknown) => {
      if (!res.headersSent) {
        const message = `The emulator failed to handle this request: ${err instanceof Error ? err.message : String(err)}`;
        stripeError(new ApiError(500, { type: 'api_error', message }));
      } else {
        res.destroy();
      }
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    request: { id: string; atSeconds: number },
    stripeError: (error: ApiError, headers?: Record<string, string>) => void,
  ): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator.invalid');
    } catch {
      stripeError(invalidRequest('Malformed request URL.'));
      return;
    }
    const isApi = url.pathname === '/v1' || url.pathname.startsWith('/v1/');
    const isAdmin = url.pathname.startsWith('/_emulator/') && emulator !== null;
    if (isApi) state.requests++;
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        const error = new ApiError(413, { type: 'invalid_request_error', message: err.message });
        if (isAdmin) sendJson(res, 413, errorJson(error.body), { Connection: 'close' });
        else stripeError(error, { Connection: 'close' });
      } else {
        res.destroy();
      }
      return;
    }
    if (isApi) {
      await handleApiRequest(req, res, url, rawBody, request, {
        state,
        faults,
        delay: (ms) => delays.wait(ms),
        untilClientGone: (r) => delays.untilClientGone(r),
        persist: () => core.persistence?.saveNow(),
      });
    } else if (isAdmin && url.pathname.startsWith(CHALLENGE_PATH)) {
      handleChallengeRequest(req, res, url, { state, persist: () => core.persistence?.saveNow() });
    } else if (isAdmin && emulator) {
      await handleAdminRequest(req, res, url, rawBody, { state, emulator });
    } else {
      stripeError(unrecognizedUrl(req.method ?? 'GET', url.pathname));
    }
  }

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  try {
    await listen(server, requestedPort, host);
  } catch (err) {
    core.shutdown();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  state.baseUrl = `http://${urlHost}:${port}`;

  let closing: Promise<void> | null = null;
  emulator = {
    ...core.controls(),
    url: state.baseUrl,
    port,
    host,
    setLatency(ms: number) {
      state.latencyMs = checkLatency(ms);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        core.shutdown();
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
  return emulator;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
