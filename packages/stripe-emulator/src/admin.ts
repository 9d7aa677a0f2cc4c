import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultPlanError, parseFaultPlan } from './faults';
import { decodeForm, FormDecodeError } from './form';
import { sendJson } from './http';
import type { EmulatorState } from './store';
import { isValidLatency, MAX_LATENCY_MS, toEmulated, toEmulatedRefund } from './store';
import type { StripeEmulator } from './types';
import { WebhookConfigError } from './webhook-config';

export interface AdminDeps {
  state: EmulatorState;
  emulator: StripeEmulator;
}

/**
 * Unauthenticated control endpoints under `/_emulator/` (JSON in and out; see README for each):
 * health, ledger, config, reset, faults, idempotency-key pruning, webhooks, events and 3D Secure
 * challenges (the challenge page itself is challenge-page.ts).
 */
export async function handleAdminRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rawBody: string,
  { state, emulator }: AdminDeps,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
  const body = () => parseJsonObject(rawBody);
  const challenge = /^POST \/_emulator\/payment_intents\/([^/]+)\/(complete|fail)_challenge$/.exec(route);
  try {
    if (challenge?.[1]) return settleChallenge(res, emulator, challenge[1], challenge[2] === 'complete');
    switch (route) {
      case 'GET /_emulator/health':
        return sendJson(res, 200, { ok: true });
      case 'GET /_emulator/payment_intents':
        return listLedger(res, url, state.paymentIntents().map(toEmulated));
      case 'GET /_emulator/refunds':
        return listLedger(res, url, state.refunds().map(toEmulatedRefund));
      case 'GET /_emulator/config':
        return sendJson(res, 200, configOf(state));
      case 'POST /_emulator/config':
        updateConfig(body(), state);
        return sendJson(res, 200, configOf(state));
      case 'POST /_emulator/reset':
        emulator.reset();
        return sendJson(res, 200, { ok: true });
      case 'GET /_emulator/faults':
        return sendJson(res, 200, emulator.faultStatus());
      case 'POST /_emulator/faults':
        emulator.setFaults(parseFaultPlan(rawBody.trim() === '' ? null : JSON.parse(rawBody)));
        return sendJson(res, 200, emulator.faultStatus());
      case 'DELETE /_emulator/faults':
        emulator.clearFaults();
        return sendJson(res, 200, emulator.faultStatus());
      case 'POST /_emulator/idempotency_keys/prune': {
        const olderThanMs = body().olderThanMs;
        if (olderThanMs !== undefined && !isValidLatency(olderThanMs))
          return adminError(res, 400, 'olderThanMs must be a non-negative number.');
        return sendJson(res, 200, { pruned: emulator.pruneIdempotencyKeys(olderThanMs) });
      }
      case 'GET /_emulator/webhooks':
        return sendJson(res, 200, emulator.webhookConfig());
      case 'POST /_emulator/webhooks':
        return sendJson(res, 200, emulator.configureWebhooks(body()));
      case 'GET /_emulator/webhooks/deliveries':
        return sendJson(res, 200, { data: emulator.webhookDeliveries() });
      case 'POST /_emulator/webhooks/drain': {
        const timeoutMs = body().timeoutMs ?? 10_000;
        if (!isValidLatency(timeoutMs))
          return adminError(res, 400, 'timeoutMs must be a non-negative number.');
        const drained = await emulator.drainWebhooks(timeoutMs).then(
          () => true,
          () => false,
        );
        return sendJson(res, drained ? 200 : 504, { drained });
      }
      case 'GET /_emulator/events':
        return sendJson(res, 200, { data: emulator.events() });
      default:
        return adminError(res, 404, `Unrecognized emulator URL (${method}: ${url.pathname}).`);
    }
  } catch (err) {
    if (err instanceof FaultPlanError || err instanceof WebhookConfigError || err instanceof BadBody)
      return adminError(res, 400, err.message);
    if (err instanceof SyntaxError) return adminError(res, 400, `Invalid JSON: ${err.message}`);
    throw err;
  }
}

class BadBody extends Error {}

/** `POST /_emulator/payment_intents/:id/complete_challenge | fail_challenge` → `ChallengeOutcome`. */
function settleChallenge(
  res: ServerResponse,
  emulator: StripeEmulator,
  rawId: string,
  complete: boolean,
): void {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    adminError(res, 400, 'Malformed PaymentIntent id.');
    return;
  }
  try {
    sendJson(res, 200, complete ? emulator.completeChallenge(id) : emulator.failChallenge(id));
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    adminError(res, 404, err.message);
  }
}

function parseJsonObject(rawBody: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
  } catch {
    throw new BadBody('Expected a JSON object body.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new BadBody('Expected a JSON object body.');
  return parsed as Record<string, unknown>;
}

function configOf(state: EmulatorState) {
  return {
    latencyMs: state.latencyMs,
    idempotencyKeyTtlMs: state.idempotency.ttlMs,
    processingDelayMs: state.processingDelayMs,
    refundDelayMs: state.refundDelayMs,
    authorizationTtlMs: state.authorizationTtlMs,
  };
}

function updateConfig(patch: Record<string, unknown>, state: EmulatorState): void {
  const { latencyMs, idempotencyKeyTtlMs, processingDelayMs, refundDelayMs, authorizationTtlMs } = patch;
  // Validate everything before changing anything.
  if (latencyMs !== undefined && !isValidLatency(latencyMs))
    throw new BadBody(`latencyMs must be a number between 0 and ${MAX_LATENCY_MS}.`);
  if (
    idempotencyKeyTtlMs !== undefined &&
    idempotencyKeyTtlMs !== null &&
    !isValidLatency(idempotencyKeyTtlMs)
  )
    throw new BadBody('idempotencyKeyTtlMs must be a non-negative number or null.');
  if (processingDelayMs !== undefined && !isValidLatency(processingDelayMs))
    throw new BadBody('processingDelayMs must be a non-negative number.');
  if (refundDelayMs !== undefined && !isValidLatency(refundDelayMs))
    throw new BadBody('refundDelayMs must be a non-negative number.');
  if (authorizationTtlMs !== undefined && !isValidLatency(authorizationTtlMs))
    throw new BadBody('authorizationTtlMs must be a non-negative number.');
  if (latencyMs !== undefined) state.latencyMs = latencyMs as number;
  if (idempotencyKeyTtlMs !== undefined) state.idempotency.ttlMs = idempotencyKeyTtlMs as number | null;
  if (processingDelayMs !== undefined) state.processingDelayMs = processingDelayMs as number;
  if (refundDelayMs !== undefined) state.refundDelayMs = refundDelayMs as number;
  if (authorizationTtlMs !== undefined) state.authorizationTtlMs = authorizationTtlMs as number;
}

/** A ledger (PaymentIntents or refunds, creation order), filtered by `status`, `payment_intent` and `metadata[k]`. */
function listLedger(
  res: ServerResponse,
  url: URL,
  rows: { status: string; payment_intent?: string; metadata: Record<string, string> }[],
): void {
  let filters: ReturnType<typeof decodeForm>;
  try {
    filters = decodeForm(url.search.slice(1));
  } catch (err) {
    if (!(err instanceof FormDecodeError)) throw err;
    adminError(res, 400, err.message);
    return;
  }
  const { status, payment_intent: paymentIntent, metadata } = filters;
  const wanted =
    metadata !== undefined && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata : {};
  const data = rows.filter(
    (row) =>
      (typeof status !== 'string' || row.status === status) &&
      (typeof paymentIntent !== 'string' || row.payment_intent === paymentIntent) &&
      Object.entries(wanted).every(([k, v]) => Object.hasOwn(row.metadata, k) && row.metadata[k] === v),
  );
  sendJson(res, 200, { data });
}

function adminError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { type: 'invalid_request_error', message } });
}
