import { createOrder, getOrder, listOrders } from '@chargeonce/payments';
import { z } from 'zod';
import { attemptDto, orderDto, orderIdSchema, toAttemptDto, toOrderDto } from '../dto';
import { createInput } from '../orders/create.schema';
import { pay } from '../orders/pay';
import { authedProcedure, router } from '../trpc';

export const ordersRouter = router({
  create: authedProcedure
    .input(createInput)
    .output(orderDto)
    .mutation(async ({ ctx, input }) =>
      toOrderDto(await createOrder(ctx.db, { userId: ctx.user.id, ...input })),
    ),

  get: authedProcedure
    .input(z.strictObject({ orderId: orderIdSchema }))
    .output(z.object({ order: orderDto, attempts: z.array(attemptDto) }))
    .query(async ({ ctx, input }) => {
      ctx.audit.orderId = input.orderId;
      const { order, attempts } = await getOrder(ctx.db, { orderId: input.orderId, userId: ctx.user.id });
      return { order: toOrderDto(order), attempts: attempts.map(toAttemptDto) };
    }),

  list: authedProcedure
    .input(
      z
        .strictObject({
          limit: z.number().int().min(1).max(100).default(20),
          cursor: orderIdSchema.nullish(),
        })
        .default({ limit: 20 }),
    )
    .output(z.object({ items: z.array(orderDto), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listOrders(ctx.db, {
        userId: ctx.user.id,
        limit: input.limit,
        cursor: input.cursor ?? undefined,
      });
      return { items: page.items.map(toOrderDto), nextCursor: page.nextCursor };
    }),

  pay,
});
