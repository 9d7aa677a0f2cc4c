export {
  AUTH_CACHE_TTL_MS,
  type Authenticator,
  bearerToken,
  createTokenAuthenticator,
  type Principal,
} from './auth';
export {
  type ApiDeps,
  type Context,
  type CreateContextOptions,
  createContextInner,
  type RequestAudit,
} from './context';
export type { OrderDto } from './dto';
export { DOMAIN_ERROR_TO_TRPC, domainToTRPCError } from './errors';
export type { PayOutput } from './orders/pay.schema';
export { procedurePaths } from './procedures';
export { type AppRouter, appRouter } from './router';
export { createCallerFactory } from './trpc';
