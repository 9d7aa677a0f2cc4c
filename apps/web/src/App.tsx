import { QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { PageHeading } from './components/PageHeading';
import { Link, matchRoute, usePath } from './navigation';
import { canOperate, operatorGate } from './operator/view';
import { WhoamiFailed, type WhoamiState } from './operator/WhoamiFailed';
import { NewOrder } from './screens/NewOrder';
import { OperatorPage } from './screens/OperatorPage';
import { OrderPage } from './screens/OrderPage';
import { OrdersList } from './screens/OrdersList';
import { SignIn } from './screens/SignIn';
import { signOut, useSession } from './session';
import { createApiClient, createQueryClient, TRPCProvider, useTRPC } from './trpc';

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createApiClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Shell />
      </TRPCProvider>
    </QueryClientProvider>
  );
}

function Shell() {
  const session = useSession();
  const path = usePath();
  const queryClient = useQueryClient();
  const trpc = useTRPC();
  // What the session may do: the operator page is linked (and shown) only with operations:read.
  const whoami = useQuery(
    trpc.principal.whoami.queryOptions(undefined, { enabled: session !== null, staleTime: 60_000 }),
  );
  const scopes = session ? whoami.data?.scopes : undefined;
  // Signed out (by the button, another tab, or a session the server no longer accepts): nothing of
  // the previous user's data may show to the next one. Only on a change of session: clearing on
  // mount would also drop the sign-in screen's own queries.
  const previousSession = useRef(session);
  const [signingOut, setSigningOut] = useState<'no' | 'busy' | 'failed'>('no');
  useEffect(() => {
    if (previousSession.current !== null && previousSession.current !== session) {
      queryClient.clear();
      setSigningOut('no');
    }
    previousSession.current = session;
  }, [session, queryClient]);
  // Signed out once the server has revoked the session; until it answers, the app stays as it is.
  const onSignOut = async () => {
    setSigningOut('busy');
    setSigningOut((await signOut()) ? 'no' : 'failed');
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          chargeonce
        </Link>
        {session ? (
          <nav aria-label="Main">
            <Link to="/">Orders</Link>
            <Link to="/orders/new">New order</Link>
            {canOperate(scopes) ? <Link to="/operator">Operations</Link> : null}
            <button type="button" onClick={() => void onSignOut()} disabled={signingOut === 'busy'}>
              {signingOut === 'busy' ? 'Signing out…' : 'Sign out'}
            </button>
          </nav>
        ) : null}
      </header>
      <main id="main">
        {session && signingOut === 'failed' ? (
          <p role="alert" className="error">
            Could not sign out: the server did not confirm it. You are still signed in; try again.
          </p>
        ) : null}
        {session ? <Screen path={path} scopes={scopes} whoami={whoami} /> : <SignIn />}
      </main>
    </>
  );
}

function Screen({
  path,
  scopes,
  whoami,
}: {
  path: string;
  scopes: readonly string[] | undefined;
  whoami: WhoamiState;
}) {
  const route = matchRoute(path);
  switch (route.name) {
    case 'operator':
      return <OperatorScreen scopes={scopes} whoami={whoami} />;
    case 'orders':
      return <OrdersList />;
    case 'new-order':
      return <NewOrder />;
    case 'order':
      // Keyed: another order is a fresh page (its own pay state), not this one re-rendered.
      return <OrderPage key={route.orderId} orderId={route.orderId} />;
    case 'not-found':
      return <NotFound />;
  }
}

/**
 * Until whoami answers, "Loading…"; if it failed, the error and a retry; a session without
 * operations:read sees "Not found".
 */
function OperatorScreen({ scopes, whoami }: { scopes: readonly string[] | undefined; whoami: WhoamiState }) {
  switch (operatorGate({ scopes, failed: whoami.isError })) {
    case 'loading':
      return <p role="status">Loading…</p>;
    case 'error':
      return <WhoamiFailed whoami={whoami} />;
    case 'page':
      return <OperatorPage scopes={scopes ?? []} />;
    case 'not-found':
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <>
      <PageHeading title="Not found">Page not found</PageHeading>
      <p>
        <Link to="/">Go to your orders</Link>
      </p>
    </>
  );
}
