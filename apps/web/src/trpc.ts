import type { AppRouter } from '@chargeonce/api';
import { DEFAULT_RETRY_POLICY, idempotencyLink, retryLink } from '@chargeonce/client';
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { isSessionRefused, isWorthRetrying } from './errors';
import { CSRF_HEADER, csrfToken, sessionEnded } from './session';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * Same origin in production (served by the server) and in `pnpm dev` (Vite proxies /trpc): the
 * browser sends the session cookie with every call, and no script here ever handles the credential.
 */
const url = '/trpc';

/** Mutations prove they come from this page (double submit; see session.ts). Queries need not. */
const mutationHeaders = (): Record<string, string> => {
  const csrf = csrfToken();
  return csrf ? { [CSRF_HEADER]: csrf } : {};
};

export function createApiClient() {
  return createTRPCClient<AppRouter>({
    links: [
      // Every mutation carries an idempotency key (a form's own, or a new one per call); a call
      // that got no answer, a 5xx or IDEMPOTENCY_KEY_IN_USE is sent again with that same key, so
      // the retry replays what the first one did instead of doing it again.
      idempotencyLink(),
      // Mutations go one per HTTP request: a pay that waits on the provider must not hold up (or
      // share one status code with) anything batched next to it. Queries are batched, and retried
      // by react-query (below), so the retry link is the mutations' alone.
      splitLink({
        condition: (op) => op.type === 'mutation',
        true: [
          retryLink({ ...DEFAULT_RETRY_POLICY, maxRetries: 2 }),
          httpLink({ url, headers: mutationHeaders }),
        ],
        false: httpBatchLink({ url }),
      }),
    ],
  });
}

export function createQueryClient(): QueryClient {
  // A session the server no longer accepts ends wherever it is noticed.
  const onError = (error: unknown) => {
    if (isSessionRefused(error)) sessionEnded('Your session ended. Sign in again.');
  };
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 2_000,
        retry: (failures, error) => failures < 2 && isWorthRetrying(error),
      },
      // Never resend a mutation as a new call behind the user's back: the API client's own retries
      // (same idempotency key, so a replay, never a second order or charge) are the only ones.
      mutations: { retry: false },
    },
  });
}
