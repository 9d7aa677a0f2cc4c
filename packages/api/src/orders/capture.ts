import { type CaptureAnswer, captureOrder, voidOrder } from '@chargeonce/payments';
import { z } from 'zod';
import type { Principal } from '../auth';
import {
  captureDto,
  movedAmountSchema,
  orderDto,
  orderIdSchema,
  toCaptureDto,
  toOrderDto,
  userIdSchema,
} from '../dto';
import { idempotencyKeyField, idempotentMutation } from '../idempotency';
import { ownerFor } from '../owner';

const target = {
  orderId: orderIdSchema,
  /** Optional for a service: the order's owner, checked against the order. */
  userId: userIdSchema.optional(),
  ...idempotencyKeyField,
};

export const captureInput = z.strictObject({
  ...target,
  /** Minor units: capture part of the authorization (the rest is released); all of it when absent. */
  amount: movedAmountSchema.optional(),
});
export const voidInput = z.strictObject(target);

const output = (done: 'captured' | 'voided') =>
  z.object({
    /** `already_*`: done before this request (the row is null when done outside chargeonce). */
    outcome: z.enum([done, `already_${done}`, 'pending']),
    order: orderDto,
    capture: captureDto.nullable(),
  });
export const captureOutput = output('captured');
export const voidOutput = output('voided');

function answer<D extends 'captured' | 'voided'>(done: D, result: CaptureAnswer) {
  const outcome =
    result.outcome === 'done'
      ? done
      : result.outcome === 'already_done'
        ? (`already_${done}` as const)
        : ('pending' as const);
  return {
    outcome,
    order: toOrderDto(result.order),
    capture: result.capture ? toCaptureDto(result.capture) : null,
  };
}

const requester = (principal: Principal) =>
  principal.kind === 'user'
    ? { kind: 'user' as const, id: principal.userId }
    : { kind: 'service' as const, id: principal.serviceId };

/**
 * `orders.capture`: takes the money of an order authorized to capture later, exactly once. Of a
 * capture and a void racing, one wins (the other answers CONFLICT); `pending` (the provider's
 * answer not known yet) is settled later with the same Stripe key and is no final answer: a retry
 * with the caller's key asks again.
 */
export const capture = idempotentMutation(
  'orders:capture',
  { input: captureInput, output: captureOutput, isFinal: (out) => out.outcome !== 'pending' },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const result = await captureOrder(ctx.payments, {
      orderId: input.orderId,
      userId: ownerFor(ctx.principal, input.userId, false),
      amount: input.amount,
      requestedBy: requester(ctx.principal),
    });
    const out = answer('captured', result);
    ctx.audit.outcome = out.outcome;
    return out;
  },
);

/** `orders.void`: releases an authorized order's hold, exactly once; the order ends `canceled`. */
export const voidAuthorization = idempotentMutation(
  'orders:capture',
  { input: voidInput, output: voidOutput, isFinal: (out) => out.outcome !== 'pending' },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const result = await voidOrder(ctx.payments, {
      orderId: input.orderId,
      userId: ownerFor(ctx.principal, input.userId, false),
      requestedBy: requester(ctx.principal),
    });
    const out = answer('voided', result);
    ctx.audit.outcome = out.outcome;
    return out;
  },
);
