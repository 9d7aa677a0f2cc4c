import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/** A tiny history-API router: five routes do not need a routing library. */
const EVENT = 'chargeonce:navigate';

export function navigate(path: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(EVENT));
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(EVENT, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(EVENT, listener);
  };
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export type Route =
  | { name: 'orders' }
  | { name: 'new-order' }
  | { name: 'order'; orderId: string }
  | { name: 'operator' }
  | { name: 'not-found' };

export function matchRoute(path: string): Route {
  if (path === '/' || path === '/orders' || path === '/orders/') return { name: 'orders' };
  if (path === '/orders/new') return { name: 'new-order' };
  if (path === '/operator' || path === '/operator/') return { name: 'operator' };
  const order = /^\/orders\/([0-9a-f-]{36})\/?$/i.exec(path);
  if (order) return { name: 'order', orderId: order[1]! };
  return { name: 'not-found' };
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** A real link (open in new tab, copy address work) that navigates in place on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
