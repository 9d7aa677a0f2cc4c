import { z } from 'zod';
import { authenticatedProcedure, router } from '../trpc';

/**
 * `principal.whoami`: who the caller's token speaks for and what it may do. The web client shows
 * the operator page only to a session holding `operations:read`; any live token may ask.
 */
export const principalRouter = router({
  whoami: authenticatedProcedure
    .output(
      z.object({
        kind: z.enum(['user', 'service']),
        userId: z.string().nullable(),
        service: z.string().nullable(),
        scopes: z.array(z.string()),
      }),
    )
    .query(({ ctx }) => {
      const p = ctx.principal;
      return {
        kind: p.kind,
        userId: p.kind === 'user' ? p.userId : null,
        service: p.kind === 'service' ? p.service : null,
        scopes: [...p.scopes],
      };
    }),
});
