import { TRPCError } from '@trpc/server';
import type { Principal } from './auth';

/**
 * Whose orders a call may touch. A user token: only its own user's (naming another user is
 * FORBIDDEN). A service token: the user it names, or, for one order addressed by its id, any
 * user's (`null`). `required`: the call must say whose orders (creating or listing them).
 */
export function ownerFor(principal: Principal, named: string | undefined, required: true): string;
export function ownerFor(principal: Principal, named: string | undefined, required: false): string | null;
export function ownerFor(principal: Principal, named: string | undefined, required: boolean): string | null {
  if (principal.kind === 'user') {
    if (named !== undefined && named !== principal.userId) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'A user token acts only on its own orders.' });
    }
    return principal.userId;
  }
  if (named === undefined && required) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'userId is required: a service names the customer.',
    });
  }
  return named ?? null;
}
