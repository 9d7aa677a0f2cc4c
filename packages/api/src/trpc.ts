import { type DomainError, isDomainError } from '@chargeonce/payments';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
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
      message: error.code === 'INTERNAL_SERVER_ERROR' ? 'Internal server error' : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        ...(shape.data.path ? { path: shape.data.path } : {}),
        domainCode: isDomainError(cause) ? cause.code : null,
        declineCode:
          isDomainError(cause) && cause.details.code === 'PAYMENT_DECLINED'
            ? cause.details.declineCode
            : null,
        issues:
          cause instanceof ZodError
            ? cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
            : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors thrown below become their mapped tRPC codes (see errors.ts). */
const mapDomainErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = domainToTRPCError(result.error.cause);
    if (mapped) {
      ctx.audit.outcome = (result.error.cause as DomainError).code.toLowerCase();
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

/** Requires `Authorization: Bearer <token>` of a known user; adds `ctx.user`. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.token) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Missing bearer token.' });
  const user = await ctx.auth.authenticate(ctx.token);
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Unknown or revoked token.' });
  ctx.audit.userId = user.id;
  return next({ ctx: { ...ctx, user } });
});
