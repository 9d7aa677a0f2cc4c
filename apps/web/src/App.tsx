import { QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { PageHeading } from './components/PageHeading';
import { Link, matchRoute, usePath } from './navigation';
import { NewOrder } from './screens/NewOrder';
import { OrderPage } from './screens/OrderPage';
import { OrdersList } from './screens/OrdersList';
import { SignIn } from './screens/SignIn';
import { signOut, useToken } from './session';
import { createApiClient, createQueryClient, TRPCProvider } from './trpc';

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
  const token = useToken();
  const path = usePath();
  const queryClient = useQueryClient();
  // Signed out (by the button, another tab, or a token the server no longer accepts): nothing of
  // the previous user's data may show to the next one. Only on a change of user: clearing on
  // mount would also drop the sign-in screen's own queries.
  const previousToken = useRef(token);
  useEffect(() => {
    if (previousToken.current !== null && previousToken.current !== token) queryClient.clear();
    previousToken.current = token;
  }, [token, queryClient]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          chargeonce
        </Link>
        {token ? (
          <nav aria-label="Main">
            <Link to="/">Orders</Link>
            <Link to="/orders/new">New order</Link>
            <button type="button" onClick={() => signOut()}>
              Sign out
            </button>
          </nav>
        ) : null}
      </header>
      <main id="main">{token ? <Screen path={path} /> : <SignIn />}</main>
    </>
  );
}

function Screen({ path }: { path: string }) {
  const route = matchRoute(path);
  switch (route.name) {
    case 'orders':
      return <OrdersList />;
    case 'new-order':
      return <NewOrder />;
    case 'order':
      // Keyed: another order is a fresh page (its own pay state), not this one re-rendered.
      return <OrderPage key={route.orderId} orderId={route.orderId} />;
    case 'not-found':
      return (
        <>
          <PageHeading title="Not found">Page not found</PageHeading>
          <p>
            <Link to="/">Go to your orders</Link>
          </p>
        </>
      );
  }
}
