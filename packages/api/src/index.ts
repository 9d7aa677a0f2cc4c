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
  DEFAULT_IDEMPOTENCY_LEASE_MS,
  type RequestAudit,
} from './context';
export type { OrderDto } from './dto';
export { DOMAIN_ERROR_TO_TRPC, domainToTRPCError } from './errors';
export { fingerprint, IN_USE_RETRY_AFTER_MS, idempotencyKeySchema } from './idempotency';
export type { PayOutput } from './orders/pay.schema';
export { procedurePaths } from './procedures';
export { type AppRouter, appRouter } from './router';
export { createCallerFactory } from './trpc';
