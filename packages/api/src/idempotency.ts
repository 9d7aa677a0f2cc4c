import { createHash } from 'node:crypto';
import {
  completeKey,
  forgetKey,
  IDEMPOTENCY_KEY_PATTERN,
  isDatabaseUnavailable,
  type KeyOwner,
  releaseKey,
  type Scope,
  takeKey,
} from '@chargeonce/db';
import {
  DomainError,
  type DomainErrorCode,
  type DomainErrorDetails,
  isDomainError,
} from '@chargeonce/payments';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import type { Principal } from './auth';
import type { Context } from './context';
import { domainToTRPCError, RefusedBeforeExecution } from './errors';
import { scopedProcedure } from './trpc';

/**
 * Caller idempotency keys for every mutation, as Stripe documents them: the first request with a
 * key executes and its final answer is stored; every later request with the key gets that answer
 * back, marked as a replay. Another request with the same key is refused (REUSED), and so is one
 * while the first still runs (IN_USE). Refusals before execution (validation, authentication,
 * scope) are not stored: a corrected retry with the key executes. Every mutation is built with
 * `idempotentMutation`, so none can miss this.
 */

const KEY_RULE = '1 to 255 printable ASCII characters';
export const idempotencyKeySchema = z
  .string()
  .regex(IDEMPOTENCY_KEY_PATTERN, { message: `idempotencyKey must be ${KEY_RULE}` });
/**
 * Every mutation's input has it: the typed client's way to send a key (it survives batching,
 * where calls share one request's headers). Raw HTTP callers may send `Idempotency-Key` instead.
 */
export const idempotencyKeyField = { idempotencyKey: idempotencyKeySchema.optional() };

/** The hint an IN_USE answer carries (and its Retry-After header, rounded up to seconds). */
export const IN_USE_RETRY_AFTER_MS = 500;

/** A key this request holds while it executes. */
export interface HeldKey {
  keyId: string;
  lockToken: string;
}

/** What the resolver of an idempotent mutation sees: the key it holds, if the call has one. */
export interface IdempotencyContext {
  idempotency: HeldKey | undefined;
}

/** The stored answer (`response` column): the data returned, or the domain error raised. */
type StoredAnswer = { data: unknown } | { error: DomainErrorDetails };
const noReplay = undefined as { data: unknown } | undefined;

/** Canonical JSON: object keys sorted, undefined left out; equal inputs give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // sort() without a comparator: UTF-16 code unit order, the same on every build and locale.
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 of the parsed input without its key: what a replay must match. */
export function fingerprint(input: object): string {
  const { idempotencyKey: _, ...rest } = input as { idempotencyKey?: unknown };
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

const badRequest = (message: string) => new TRPCError({ code: 'BAD_REQUEST', message });

/** The call's key: from its input, or the request's `Idempotency-Key` header (one call only). */
function requestKey(ctx: Context, fromInput: string | undefined): string | undefined {
  const header = ctx.idempotencyHeader;
  if (header === undefined) return fromInput;
  if (!IDEMPOTENCY_KEY_PATTERN.test(header)) {
    throw badRequest(`The Idempotency-Key header must be ${KEY_RULE}.`);
  }
  if (ctx.calls > 1) {
    throw badRequest(
      "An Idempotency-Key header names one call; in a batch, each mutation carries its key in its input's idempotencyKey.",
    );
  }
  if (fromInput !== undefined && fromInput !== header) {
    throw badRequest("The Idempotency-Key header and the input's idempotencyKey differ.");
  }
  return header;
}

const ownerOf = (p: Principal): KeyOwner =>
  p.kind === 'user' ? { kind: 'user', id: p.userId } : { kind: 'service', id: p.serviceId };

/** What becomes of a key once its request has its answer. */
type Settlement =
  | { kind: 'complete'; response: StoredAnswer; httpStatus: number }
  | { kind: 'release' | 'forget' };

/** Domain errors that only say the input named nothing there: nothing ran, so nothing is kept. */
const NOTHING_RAN: ReadonlySet<DomainErrorCode> = new Set([
  'ORDER_NOT_FOUND',
  'USER_NOT_FOUND',
  'RECORD_NOT_FOUND',
]);
/** Refusals that hold only while something else is in flight: a retry with the key asks again. */
const NOT_FINAL_YET: ReadonlySet<DomainErrorCode> = new Set([
  'PAYMENT_IN_PROGRESS',
  'RECONCILIATION_RUNNING',
]);
/**
 * A refusal because a capture or void is deciding the order's hold holds only until it is decided
 * (a refused one gives the order back, authorized): not final either.
 */
const DECIDING: ReadonlySet<string> = new Set(['capturing', 'voiding']);
const notFinalYet = (cause: DomainError) =>
  NOT_FINAL_YET.has(cause.code) || ('status' in cause.details && DECIDING.has(cause.details.status));

/**
 * Final answers are kept: data the procedure calls final, or a domain error below 500 (a decline,
 * a refusal after execution began). A refusal before anything ran (`RefusedBeforeExecution`, an
 * order or user that is not there) is forgotten, as a validation failure would be: the corrected
 * request with the key executes. Anything else (pay's `processing`, a cancel meeting a payment in
 * flight, the provider unavailable, an unexpected error) lets go of the key unanswered, keeping its
 * fingerprint: a retry with it asks again.
 */
function settlementOf(
  result: { ok: true; data: unknown } | { ok: false; error: TRPCError },
  isFinal: (data: unknown) => boolean,
): Settlement {
  if (result.ok) {
    return isFinal(result.data)
      ? { kind: 'complete', response: { data: result.data }, httpStatus: 200 }
      : { kind: 'release' };
  }
  const cause = result.error.cause;
  const mapped = domainToTRPCError(cause);
  if (mapped && isDomainError(cause)) {
    if (NOTHING_RAN.has(cause.code)) return { kind: 'forget' };
    if (notFinalYet(cause)) return { kind: 'release' };
    const httpStatus = getHTTPStatusCodeFromError(mapped);
    return httpStatus < 500
      ? { kind: 'complete', response: { error: cause.details }, httpStatus }
      : { kind: 'release' };
  }
  return cause instanceof RefusedBeforeExecution ? { kind: 'forget' } : { kind: 'release' };
}

async function settle(ctx: Context, held: HeldKey, settlement: Settlement): Promise<void> {
  const once = () =>
    settlement.kind === 'complete'
      ? completeKey(ctx.db, held, settlement)
      : settlement.kind === 'forget'
        ? forgetKey(ctx.db, held)
        : releaseKey(ctx.db, held);
  try {
    if (!(await once()))
      ctx.logger?.warn({ keyId: held.keyId }, 'idempotency key was taken over; answer not stored');
  } catch (err) {
    // The operation ran: its caller gets its answer. The key stays held until its lease runs out,
    // and a retry after that re-runs the operation, which its own guarantees make safe.
    ctx.logger?.error({ err, keyId: held.keyId }, 'could not store the idempotency key answer');
    // The database is back soon after a restart or a failover: settle then, so the caller's retry
    // is not answered IDEMPOTENCY_KEY_IN_USE for the whole lease (only the holder's token can).
    if (isDatabaseUnavailable(err))
      settleWhenBack(once, { withinMs: ctx.idempotencyLeaseMs, schedule: ctx.idempotencySchedule });
  }
}

/**
 * Repeats `once` in the background (backing off from 250 ms to 5 s) while it fails because the
 * database is unavailable, for at most `withinMs` (past the key's lease it is anyone's again).
 * The timers do not keep the process alive.
 */
export function settleWhenBack(
  once: () => Promise<unknown>,
  options: { withinMs: number; now?: () => number; schedule?: (run: () => void, ms: number) => void },
): void {
  const now = options.now ?? Date.now;
  const schedule = options.schedule ?? ((run: () => void, ms: number) => setTimeout(run, ms).unref());
  const deadline = now() + options.withinMs;
  const tryAgain = (delayMs: number) => {
    if (now() + delayMs > deadline) return;
    schedule(() => {
      once().catch((err: unknown) => {
        if (isDatabaseUnavailable(err)) tryAgain(Math.min(delayMs * 2, 5_000));
      });
    }, delayMs);
  };
  tryAgain(250);
}

/**
 * A mutation under idempotency keys: `scope` to call it, `input` (which must carry
 * `idempotencyKeyField`), `output`, and `isFinal` (default: every success is) for answers that
 * must not be replayed, such as pay's `processing`. `resolve` is the procedure itself; it runs only
 * when the call executes, never for a replay.
 */
export function idempotentMutation<
  I extends z.ZodType<{ idempotencyKey?: string | undefined }>,
  O extends z.ZodType,
>(
  scope: Scope,
  schemas: { input: I; output: O; isFinal?: (data: z.output<O>) => boolean },
  resolve: (opts: {
    ctx: Context & { principal: Principal } & IdempotencyContext;
    input: z.output<I>;
  }) => Promise<z.input<O>>,
) {
  const isFinal = (schemas.isFinal ?? (() => true)) as (data: unknown) => boolean;
  return (
    scopedProcedure(scope)
      .input(schemas.input)
      .use(async ({ ctx, path, input, next }) => {
        const key = requestKey(ctx, input.idempotencyKey);
        if (key === undefined) return next({ ctx: { idempotency: undefined, replay: noReplay } });
        const taken = await takeKey(ctx.db, {
          owner: ownerOf(ctx.principal),
          key,
          procedure: path,
          fingerprint: fingerprint(input),
          leaseMs: ctx.idempotencyLeaseMs,
        });
        switch (taken.kind) {
          case 'mismatch':
            ctx.audit.idempotency = 'reused';
            throw new DomainError({
              code: 'IDEMPOTENCY_KEY_REUSED',
              procedure: path,
              firstProcedure: taken.procedure,
            });
          case 'in_use': {
            const retryAfterMs = Math.max(50, Math.min(IN_USE_RETRY_AFTER_MS, taken.leaseLeftMs));
            ctx.audit.idempotency = 'in_use';
            ctx.audit.retryAfterMs = retryAfterMs;
            throw new DomainError({ code: 'IDEMPOTENCY_KEY_IN_USE', retryAfterMs });
          }
          case 'replay': {
            ctx.audit.idempotency = 'replayed';
            const stored = taken.response as StoredAnswer;
            if ('error' in stored) throw new DomainError(stored.error);
            return next({ ctx: { idempotency: undefined, replay: stored as { data: unknown } | undefined } });
          }
          case 'execute': {
            ctx.audit.idempotency = 'executed';
            const held = { keyId: taken.keyId, lockToken: taken.lockToken };
            const result = await next({
              ctx: { idempotency: held as HeldKey | undefined, replay: noReplay },
            });
            await settle(ctx, held, settlementOf(result, isFinal));
            return result;
          }
        }
      })
      .output(schemas.output)
      // The casts only restate the generics tRPC infers from `schemas` (a replay's data is the stored
      // output, checked against `output` again on its way out).
      .mutation(
        ({ ctx, input }) =>
          (ctx.replay ? ctx.replay.data : resolve({ ctx, input: input as z.output<I> })) as never,
      )
  );
}
