import { isDatabaseUnavailable, type Scope } from '@chargeonce/db';
import { DomainError, isDomainError } from '@chargeonce/payments';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { Principal } from './auth';
import type { Context } from './context';
import { domainToTRPCError } from './errors';

const t = initTRPC.context<Context>().create({
  // Never send stack traces to callers.
  isDev: false,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      // Unexpected errors carry no detail to the caller; the adapter logs them.
      message: messageFor(error, shape.message),
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        // An unknown procedure's path is the caller's own input: not echoed back.
        ...(shape.data.path && !(error.code === 'NOT_FOUND' && !isDomainError(cause))
          ? { path: shape.data.path }
          : {}),
        domainCode: isDomainError(cause) ? cause.code : null,
        declineCode:
          isDomainError(cause) && cause.details.code === 'PAYMENT_DECLINED'
            ? cause.details.declineCode
            : null,
        // IDEMPOTENCY_KEY_IN_USE, DATABASE_UNAVAILABLE: when to retry (with the same key).
        ...(isDomainError(cause) && 'retryAfterMs' in cause.details
          ? { retryAfterMs: cause.details.retryAfterMs }
          : {}),
        issues:
          cause instanceof ZodError
            ? cause.issues
                .slice(0, 20)
                .map((i) => ({ path: clip(i.path.join('.')), message: clip(i.message) }))
            : null,
      },
    };
  },
});

/** At most this much of anything the caller sent comes back in an error. */
const MAX_ECHO = 120;
const clip = (text: string) => (text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text);

/** `amount: amount must be greater than 0.` — one validation problem as a sentence naming its field. */
function sentence(issue: ZodError['issues'][number]): string {
  const field = clip(issue.path.length ? issue.path.join('.') : 'input');
  const message = clip(issue.message);
  const text = message.startsWith(field) ? message : `${field}: ${message}`;
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/**
 * What the caller reads. Unexpected errors carry no detail; a validation error is one sentence per
 * problem naming the field and the rule (the structured list stays in `data.issues`); an unknown
 * procedure is named without echoing the path the caller sent.
 */
function messageFor(error: TRPCError, fallback: string): string {
  if (error.code === 'INTERNAL_SERVER_ERROR') return 'Internal server error';
  // The JSON parser's own message quotes the body around the error.
  if (error.code === 'PARSE_ERROR') return 'The request body is not valid JSON.';
  if (error.cause instanceof ZodError) return error.cause.issues.slice(0, 5).map(sentence).join(' ');
  if (error.code === 'NOT_FOUND' && !isDomainError(error.cause)) return 'No such procedure.';
  return fallback;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** When a caller is told to come back after a database outage. */
export const DATABASE_RETRY_AFTER_MS = 1_000;

/**
 * Domain errors thrown below become their mapped tRPC codes (see errors.ts); a database that cannot
 * serve (down, restarting, failing over: `isDatabaseUnavailable`) becomes a retryable 503
 * `DATABASE_UNAVAILABLE` with a retry hint, never a 500 that hides whether anything happened.
 */
const mapDomainErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok) {
    let cause = result.error.cause;
    if (
      result.error.code === 'INTERNAL_SERVER_ERROR' &&
      !isDomainError(cause) &&
      isDatabaseUnavailable(cause)
    ) {
      ctx.logger?.warn({ err: cause }, 'database unavailable; answered 503');
      cause = new DomainError({ code: 'DATABASE_UNAVAILABLE', retryAfterMs: DATABASE_RETRY_AFTER_MS });
      ctx.audit.retryAfterMs = DATABASE_RETRY_AFTER_MS;
    }
    const mapped = domainToTRPCError(cause);
    if (mapped) {
      ctx.audit.outcome = (cause as DomainError).code.toLowerCase();
      throw mapped;
    }
  }
  return result;
});

/**
 * Records which procedure ran, for the adapter's log line and metric labels. A request for a path
 * that is no procedure never gets here, so it stays unlabelled (`unknown`), whatever the path says.
 */
const recordProcedure = t.middleware(({ ctx, path, next }) => {
  ctx.audit.procedures = [...(ctx.audit.procedures ?? []), path].sort();
  return next();
});

export const publicProcedure = t.procedure.use(recordProcedure).use(mapDomainErrors);

/** Names the principal for the request's log line. */
export const describePrincipal = (p: Principal) =>
  p.kind === 'user' ? `user:${p.userId}` : `service:${p.service}`;

/**
 * Requires `Authorization: Bearer <token>` of a live token (known, not expired, not revoked); adds
 * `ctx.principal`. Every procedure but the public ones is built from this, so none can forget to
 * authenticate.
 */
export const authenticatedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.token) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Missing bearer token.' });
  const principal = await ctx.auth.authenticate(ctx.token);
  if (!principal) {
    ctx.onAuthFailure();
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Unknown, expired or revoked token.' });
  }
  ctx.audit.principal = describePrincipal(principal);
  if (principal.kind === 'user') ctx.audit.userId = principal.userId;
  return next({ ctx: { ...ctx, principal } });
});

/**
 * An authenticated procedure whose principal must hold `scope`: none can be called without its
 * scope, and the scope is decided before the input is read.
 */
export function scopedProcedure(scope: Scope) {
  return authenticatedProcedure.use(({ ctx, next }) => {
    if (!ctx.principal.scopes.includes(scope)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `This token does not have the ${scope} scope.` });
    }
    return next();
  });
}
