import { TRPCError } from '@trpc/server';
import type { Principal } from './auth';
import { RefusedBeforeExecution } from './errors';

const refuse = (code: 'FORBIDDEN' | 'BAD_REQUEST', message: string) =>
  new TRPCError({ code, message, cause: new RefusedBeforeExecution(message) });

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
      throw refuse('FORBIDDEN', 'A user token acts only on its own orders.');
    }
    return principal.userId;
  }
  if (named === undefined && required) {
    throw refuse('BAD_REQUEST', 'userId is required: a service names the customer.');
  }
  return named ?? null;
}
