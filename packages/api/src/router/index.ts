import { router } from '../trpc';
import { ordersRouter } from './orders';

export const appRouter = router({
  orders: ordersRouter,
});

export type AppRouter = typeof appRouter;
