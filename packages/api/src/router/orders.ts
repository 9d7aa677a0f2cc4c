import {
  capturesOf,
  createOrder,
  getOrder,
  listOrders,
  refreshChallenge,
  refundsOf,
} from '@chargeonce/payments';
import { z } from 'zod';
import {
  attemptDto,
  captureDto,
  orderDto,
  orderIdSchema,
  refundDto,
  toAttemptDto,
  toCaptureDto,
  toOrderDto,
  toRefundDto,
  userIdSchema,
} from '../dto';
import { idempotentMutation } from '../idempotency';
import { cancel } from '../orders/cancel';
import { capture, voidAuthorization } from '../orders/capture';
import { createInput } from '../orders/create.schema';
import { pay } from '../orders/pay';
import { refund } from '../orders/refund';
import { ownerFor } from '../owner';
import { router, scopedProcedure } from '../trpc';

export const ordersRouter = router({
  create: idempotentMutation(
    'orders:write',
    { input: createInput, output: orderDto },
    async ({ ctx, input }) => {
      const { userId, idempotencyKey: _, ...order } = input;
      const owner = ownerFor(ctx.principal, userId, true);
      const idempotencyKeyId = ctx.idempotency?.keyId;
      return toOrderDto(await createOrder(ctx.db, { ...order, userId: owner, idempotencyKeyId }));
    },
  ),

  get: scopedProcedure('orders:read')
    .input(z.strictObject({ orderId: orderIdSchema, userId: userIdSchema.optional() }))
    .output(
      z.object({
        order: orderDto,
        attempts: z.array(attemptDto),
        refunds: z.array(refundDto),
        captures: z.array(captureDto),
      }),
    )
    .query(async ({ ctx, input }) => {
      ctx.audit.orderId = input.orderId;
      const userId = ownerFor(ctx.principal, input.userId, false);
      let { order, attempts } = await getOrder(ctx.db, { orderId: input.orderId, userId });
      // Back from a 3-D Secure challenge (or looking while one is open): the provider's word
      // settles it now, if the webhook has not yet. A failed read changes nothing.
      if (order.status === 'requires_action') {
        const settled = await refreshChallenge(ctx.payments, order.id).catch((err: unknown) => {
          ctx.logger?.warn({ err, orderId: order.id }, 'could not re-read the challenge');
          return false;
        });
        if (settled) ({ order, attempts } = await getOrder(ctx.db, { orderId: input.orderId, userId }));
      }
      const [refunds, captures] = await Promise.all([
        refundsOf(ctx.db, order.id),
        capturesOf(ctx.db, order.id),
      ]);
      return {
        order: toOrderDto(order),
        attempts: attempts.map(toAttemptDto),
        refunds: refunds.map(toRefundDto),
        captures: captures.map(toCaptureDto),
      };
    }),

  list: scopedProcedure('orders:read')
    .input(
      z
        .strictObject({
          limit: z.number().int().min(1).max(100).default(20),
          cursor: orderIdSchema.nullish(),
          /** Whose orders, when a service lists them (required then). */
          userId: userIdSchema.optional(),
        })
        .default({ limit: 20 }),
    )
    .output(z.object({ items: z.array(orderDto), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listOrders(ctx.db, {
        userId: ownerFor(ctx.principal, input.userId, true),
        limit: input.limit,
        cursor: input.cursor ?? undefined,
      });
      return { items: page.items.map(toOrderDto), nextCursor: page.nextCursor };
    }),

  pay,
  refund,
  cancel,
  capture,
  void: voidAuthorization,
});
