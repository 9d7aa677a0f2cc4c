import { useSyncExternalStore } from 'react';

/**
 * The signed-in token, kept in localStorage so a reload or a second tab stays signed in. Read by
 * the tRPC links on every request, so signing in or out needs no new client.
 */
const KEY = 'chargeonce.token';
const listeners = new Set<() => void>();
let notice: string | undefined;

export function getToken(): string | null {
  return localStorage.getItem(KEY);
}

export function signIn(token: string): void {
  localStorage.setItem(KEY, token);
  notice = undefined;
  emit();
}

/** Signs out; `why` is shown on the sign-in screen. */
export function signOut(why?: string): void {
  if (getToken() === null) return;
  localStorage.removeItem(KEY);
  notice = why;
  emit();
}

export function takeSignOutNotice(): string | undefined {
  return notice;
}

function emit(): void {
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab signing in or out.
  const onStorage = (e: StorageEvent) => {
    if (e.key === KEY) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function useToken(): string | null {
  return useSyncExternalStore(subscribe, getToken);
}
