import type { AppRouter } from '@chargeonce/api';
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
      // Mutations go one per HTTP request: a pay that waits on the provider must not hold up (or
      // share one status code with) anything batched next to it. Queries are batched.
      splitLink({
        condition: (op) => op.type === 'mutation',
        true: httpLink({ url, headers: mutationHeaders }),
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
      // Never resend a mutation behind the user's back. (Paying twice would still charge once, but
      // the user should see what happened and decide.)
      mutations: { retry: false },
    },
  });
}
