import { router } from '../trpc';
import { operationsRouter } from './operations';
import { ordersRouter } from './orders';
import { principalRouter } from './principal';

export const appRouter = router({
  orders: ordersRouter,
  operations: operationsRouter,
  principal: principalRouter,
});

export type AppRouter = typeof appRouter;
