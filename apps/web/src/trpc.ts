import type { AppRouter } from '@chargeonce/api';
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { isUnauthorized, isWorthRetrying } from './errors';
import { getToken, signOut } from './session';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Same origin in production (served by the server) and in `pnpm dev` (Vite proxies /trpc). */
const url = '/trpc';

const headers = (): Record<string, string> => {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
};

export function createApiClient() {
  return createTRPCClient<AppRouter>({
    links: [
      // Mutations go one per HTTP request: a pay that waits on the provider must not hold up (or
      // share one status code with) anything batched next to it. Queries are batched.
      splitLink({
        condition: (op) => op.type === 'mutation',
        true: httpLink({ url, headers }),
        false: httpBatchLink({ url, headers }),
      }),
    ],
  });
}

/** Resolves when the server accepts `token`; rejects with the server's answer otherwise. */
export async function checkToken(token: string): Promise<void> {
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url, headers: { authorization: `Bearer ${token}` } })],
  });
  await client.orders.list.query({ limit: 1 });
}

export function createQueryClient(): QueryClient {
  // A token the server no longer accepts ends the session wherever it is noticed.
  const onError = (error: unknown) => {
    if (isUnauthorized(error)) signOut('Your session ended. Sign in again.');
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
