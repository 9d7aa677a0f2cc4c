import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeForm, FormDecodeError } from './form';
import { sendJson } from './http';
import type { EmulatorState } from './store';
import { isValidLatency, MAX_LATENCY_MS, toEmulated } from './store';

/**
 * Unauthenticated control endpoints under `/_emulator/`:
 * - `GET  /_emulator/health` → `{ ok: true }`
 * - `GET  /_emulator/payment_intents[?status=..&metadata[key]=..]` → `{ data: EmulatedPaymentIntent[] }` (creation order)
 * - `GET  /_emulator/config` / `POST /_emulator/config {"latencyMs": N}` → `{ latencyMs }`
 * - `POST /_emulator/reset` → `{ ok: true }`
 */
export function handleAdminRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rawBody: string,
  state: EmulatorState,
): void {
  const method = (req.method ?? 'GET').toUpperCase();
  const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /_emulator/health':
      sendJson(res, 200, { ok: true });
      return;
    case 'GET /_emulator/payment_intents':
      listLedger(res, url, state);
      return;
    case 'GET /_emulator/config':
      sendJson(res, 200, { latencyMs: state.latencyMs });
      return;
    case 'POST /_emulator/config':
      updateConfig(res, rawBody, state);
      return;
    case 'POST /_emulator/reset':
      state.reset();
      sendJson(res, 200, { ok: true });
      return;
    default:
      adminError(res, 404, `Unrecognized emulator URL (${method}: ${url.pathname}).`);
      return;
  }
}

function listLedger(res: ServerResponse, url: URL, state: EmulatorState): void {
  let filters: ReturnType<typeof decodeForm>;
  try {
    filters = decodeForm(url.search.slice(1));
  } catch (err) {
    if (!(err instanceof FormDecodeError)) throw err;
    adminError(res, 400, err.message);
    return;
  }
  const { status, metadata } = filters;
  const wanted =
    metadata !== undefined && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata : {};
  const data = state
    .paymentIntents()
    .map(toEmulated)
    .filter(
      (pi) =>
        (typeof status !== 'string' || pi.status === status) &&
        Object.entries(wanted).every(([k, v]) => Object.hasOwn(pi.metadata, k) && pi.metadata[k] === v),
    );
  sendJson(res, 200, { data });
}

function updateConfig(res: ServerResponse, rawBody: string, state: EmulatorState): void {
  let latency: unknown;
  try {
    const parsed: unknown = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    latency = (parsed as Record<string, unknown>).latencyMs;
  } catch {
    adminError(res, 400, 'Expected a JSON object body, e.g. {"latencyMs": 250}.');
    return;
  }
  if (latency !== undefined) {
    if (!isValidLatency(latency)) {
      adminError(res, 400, `latencyMs must be a number between 0 and ${MAX_LATENCY_MS}.`);
      return;
    }
    state.latencyMs = latency;
  }
  sendJson(res, 200, { latencyMs: state.latencyMs });
}

function adminError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { type: 'invalid_request_error', message } });
}
