import { AsyncLocalStorage } from 'node:async_hooks';
import Stripe from 'stripe';
import type { Logger } from './deps';

/** Pinned: a Stripe account upgrade must not change the shapes this code reads. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/** Stripe keeps an idempotency key (and replays its first response) for at least this long. */
export const STRIPE_KEY_RETENTION_MS = 24 * 60 * 60_000;

/** The defaults of `StripeGatewayConfig`; the server's configuration reads them from here. */
export const STRIPE_DEFAULTS = { timeoutMs: 20_000, maxNetworkRetries: 2 } as const;

/**
 * The default bound of one call: time for every try (the first and each retry) to take its full
 * timeout. The pauses between tries come out of it, so a call's last try may be cut short.
 */
export function defaultCallTimeoutMs(timeoutMs: number, maxNetworkRetries: number): number {
  return (maxNetworkRetries + 1) * timeoutMs;
}

export interface StripeGatewayConfig {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111` for the emulator; unset for api.stripe.com. */
  apiBase?: string | undefined;
  /** Per-request (per try) timeout. A timeout is an unknown outcome, not a failure. */
  timeoutMs?: number;
  /** SDK-level retries; each retry reuses the idempotency key, so they are safe. */
  maxNetworkRetries?: number;
  /**
   * The bound of one call, all of its tries and the pauses between them included: no try starts
   * after it and no try gets a longer (socket) timeout than what is left of it, whatever the SDK's
   * retry schedule. Recovery's safety checks rely on this number (a lease must outlive any call).
   * Default: `defaultCallTimeoutMs`.
   */
  callTimeoutMs?: number | undefined;
  /**
   * Every HTTP request to the provider is logged here (see `BoundedHttpClient`): Stripe's request id,
   * the idempotency key, the status. Never the secret key (not in the line) nor a body (client secret).
   */
  logger?: Logger | undefined;
}

interface Call {
  deadline: number;
  tries: number;
}
const calls = new AsyncLocalStorage<Call>();

type HttpClientBase = InstanceType<typeof Stripe.HttpClient>;
type MakeRequest = HttpClientBase['makeRequest'];

/**
 * The SDK's own HTTP client with every request of a call (see `runCall`) counted and held to the
 * call's deadline, through the SDK's documented extension point for custom HTTP clients: a try
 * past the deadline is refused before anything is sent, and a try's timeout is clamped to what is
 * left. (The SDK's pause before a refused retry still runs, so the call may return a little after
 * the deadline; nothing is sent then.)
 */
class BoundedHttpClient extends Stripe.HttpClient {
  constructor(
    private readonly inner: HttpClientBase,
    private readonly logger: Logger | undefined,
  ) {
    super();
  }

  override getClientName(): string {
    return this.inner.getClientName();
  }

  override makeRequest(...args: Parameters<MakeRequest>): ReturnType<MakeRequest> {
    const call = calls.getStore();
    if (call) {
      call.tries++;
      const leftMs = call.deadline - Date.now();
      // A refused try is a connection error to the SDK: retried (refused again) or reported.
      if (leftMs <= 0) return Promise.reject(Stripe.HttpClient.makeTimeoutError());
      args[7] = Math.min(args[7], leftMs);
    }
    const sent = this.inner.makeRequest(...args);
    if (this.logger) logTry(this.logger, args, sent, call?.tries);
    return sent;
  }
}

const headerOf = (headers: Record<string, unknown>, name: string) => {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
};

/**
 * One line per HTTP try, once its answer's headers arrive (or it fails): Stripe's `Request-Id` (what
 * Stripe support asks for), our idempotency key, method, path without its query, status, duration.
 * Written through the logger of the work in progress, so a request's provider calls carry its id.
 */
function logTry(
  logger: Logger,
  [, , path, method, headers]: Parameters<MakeRequest>,
  sent: ReturnType<MakeRequest>,
  tries: number | undefined,
): void {
  const startedAt = Date.now();
  const line = {
    method,
    path: path.split('?')[0],
    idempotencyKey: headerOf(headers, 'Idempotency-Key'),
    ...(tries === undefined ? {} : { try: tries }),
  };
  sent.then(
    (response) => {
      const status = response.getStatusCode();
      const stripeRequestId = headerOf(response.getHeaders(), 'request-id');
      const log = { ...line, status, stripeRequestId, durationMs: Date.now() - startedAt };
      if (status >= 500) logger.warn(log, 'stripe request');
      else logger.info(log, 'stripe request');
    },
    (err: unknown) => {
      const error = (err as { code?: unknown }).code ?? (err as Error).name;
      logger.warn(
        { ...line, error: String(error), durationMs: Date.now() - startedAt },
        'stripe request failed',
      );
    },
  );
}

export type CallResult<T> =
  | { ok: true; value: T; tries: number }
  | { ok: false; error: unknown; tries: number };

/** Runs one SDK call within `callTimeoutMs`, reporting how many HTTP tries it took. */
export async function runCall<T>(callTimeoutMs: number, fn: () => Promise<T>): Promise<CallResult<T>> {
  const call: Call = { deadline: Date.now() + callTimeoutMs, tries: 0 };
  try {
    return { ok: true, value: await calls.run(call, fn), tries: call.tries };
  } catch (error) {
    return { ok: false, error, tries: call.tries };
  }
}

export function createStripeClient(config: StripeGatewayConfig): Stripe {
  const base = config.apiBase ? new URL(config.apiBase) : undefined;
  return new Stripe(config.secretKey, {
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    timeout: config.timeoutMs ?? STRIPE_DEFAULTS.timeoutMs,
    maxNetworkRetries: config.maxNetworkRetries ?? STRIPE_DEFAULTS.maxNetworkRetries,
    httpClient: new BoundedHttpClient(Stripe.createNodeHttpClient(), config.logger),
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}
