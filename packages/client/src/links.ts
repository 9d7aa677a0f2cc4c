import type { AppRouter } from '@chargeonce/api';
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { isRetryable, type RetryPolicy, retryDelayMs, TryTimeoutError } from './retry';

/**
 * What a call's caller can learn about its idempotency key: pass one as
 * `{ context: { idempotency: receipt } }`; set `receipt.key` first to choose the key. After the
 * call, `key` is the key it was sent with, `replayed` whether the answer was a replay of an earlier
 * request's (`Idempotent-Replayed: true`), and `tries` how many requests it took.
 */
export interface IdempotencyReceipt {
  key?: string;
  replayed?: boolean;
  tries?: number;
}

/** A random v4 UUID, from `crypto.getRandomValues` (available where `randomUUID` is not: plain http pages). */
export function newIdempotencyKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const receiptOf = (context: Record<string, unknown>): IdempotencyReceipt | undefined =>
  context.idempotency as IdempotencyReceipt | undefined;

const replayedHeader = (meta: unknown): boolean =>
  (meta as { response?: Response } | undefined)?.response?.headers?.get('idempotent-replayed') === 'true';

/**
 * Gives every mutation an idempotency key (the caller's, from its input or its receipt, or a new
 * one) in its input, where it survives batching. Placed before the retry link, so every retry of
 * a call carries the same key.
 */
export function idempotencyLink(): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) => {
      if (op.type !== 'mutation' || op.input === null || typeof op.input !== 'object') return next(op);
      const input = op.input as { idempotencyKey?: string };
      const receipt = receiptOf(op.context);
      const key = input.idempotencyKey ?? receipt?.key ?? newIdempotencyKey();
      if (receipt) receipt.key = key;
      return observable((observer) =>
        next({ ...op, input: { ...input, idempotencyKey: key } }).subscribe({
          next(value) {
            if (receipt) receipt.replayed = replayedHeader(value.context);
            observer.next(value);
          },
          error(err) {
            if (receipt) receipt.replayed = replayedHeader((err as TRPCClientError<AppRouter>).meta);
            observer.error(err);
          },
          complete: () => observer.complete(),
        }),
      );
    };
}

/**
 * Retries a failed try when `isRetryable` says so, after `retryDelayMs`, at most
 * `policy.maxRetries` times; abandons each try after `policy.timeoutMs` (a timeout is retried too).
 * The caller's own abort signal stops it at once.
 */
export function retryLink(policy: RetryPolicy, random = Math.random): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let tries = 0;
        let done = false;
        let pause: ReturnType<typeof setTimeout> | undefined;
        let timeout: ReturnType<typeof setTimeout> | undefined;
        let current: { unsubscribe(): void } | undefined;
        let lastError: unknown;
        const receipt = receiptOf(op.context);
        const finish = (error: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(pause);
          clearTimeout(timeout);
          op.signal?.removeEventListener('abort', onAbort);
          observer.error(TRPCClientError.from(error as Error));
        };
        // The caller's abort ends the call at once, also between tries (nothing is sent again).
        const onAbort = () => {
          current?.unsubscribe();
          finish(lastError ?? op.signal?.reason ?? new Error('aborted'));
        };
        const attempt = () => {
          if (op.signal?.aborted) return onAbort();
          tries++;
          if (receipt) receipt.tries = tries;
          const timer = new AbortController();
          timeout = setTimeout(() => timer.abort(), policy.timeoutMs);
          const signal = op.signal ? AbortSignal.any([op.signal, timer.signal]) : timer.signal;
          current = next({ ...op, signal }).subscribe({
            next: (value) => observer.next(value),
            error(err) {
              clearTimeout(timeout);
              if (done) return;
              const timedOut = timer.signal.aborted && !op.signal?.aborted;
              const error = timedOut ? TRPCClientError.from(new TryTimeoutError(policy.timeoutMs)) : err;
              lastError = error;
              if (tries > policy.maxRetries || !isRetryable(error, op.signal?.aborted ?? false)) {
                finish(error);
                return;
              }
              pause = setTimeout(attempt, retryDelayMs(policy, tries, error, random));
            },
            complete() {
              clearTimeout(timeout);
              done = true;
              op.signal?.removeEventListener('abort', onAbort);
              observer.complete();
            },
          });
        };
        op.signal?.addEventListener('abort', onAbort, { once: true });
        attempt();
        return () => {
          done = true;
          clearTimeout(pause);
          clearTimeout(timeout);
          op.signal?.removeEventListener('abort', onAbort);
          current?.unsubscribe();
        };
      });
}
