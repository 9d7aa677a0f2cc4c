import { useSyncExternalStore } from 'react';
import { readCookie } from './cookies';
import { describeSignInRefusal, UNREACHABLE } from './errors';

/**
 * The web session is two cookies the server sets at sign-in (`POST /session`): `co_session`, the
 * credential, httpOnly so that no script on the page (this one included) can read it; and
 * `co_csrf`, which this module copies into `x-csrf-token` on mutations to prove they come from
 * this page (double submit). No token is ever kept in browser storage. Being signed in is having
 * `co_csrf`; the server has the last word (a 401 anywhere ends the session).
 */
const CSRF_COOKIE = 'co_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** Where earlier versions kept the bearer token. */
const LEGACY_TOKEN_KEY = 'chargeonce.token';

const listeners = new Set<() => void>();
/** Other tabs of this origin hear of sign-in and sign-out (cookies fire no event). */
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('chargeonce.session');
channel?.addEventListener('message', () => emit());
let notice: string | undefined;
/** Set while an ended session's cookies are being cleared at the server. */
let ending: Promise<boolean> | undefined;

/** The CSRF token to send with a mutation, or null when signed out. */
export function csrfToken(): string | null {
  return readCookie(document.cookie, CSRF_COOKIE);
}

/** Names the current session (new at every sign-in), or null when signed out. Not a credential. */
function currentSession(): string | null {
  return ending ? null : csrfToken();
}

export type SignInResult = { ok: true } | { ok: false; message: string };

/** Exchanges an API token for a session; the token itself is not kept anywhere. */
export async function signIn(token: string): Promise<SignInResult> {
  // A sign-in must not race the clearing of the previous session's cookies.
  await ending;
  let res: Response;
  try {
    res = await fetch('/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token }),
    });
  } catch {
    return { ok: false, message: UNREACHABLE };
  }
  if (!res.ok) return { ok: false, message: describeSignInRefusal(res.status) };
  notice = undefined;
  changed();
  return { ok: true };
}

/**
 * Signs out: the server revokes the session and clears both cookies. Resolves false, still signed
 * in, when the server did not confirm it (unreachable, or refused): a session left open must not
 * look closed.
 */
export async function signOut(): Promise<boolean> {
  const csrf = csrfToken();
  if (csrf === null) return true;
  if (!(await logout(csrf))) return false;
  clearCsrfCookie();
  notice = undefined;
  changed();
  return true;
}

/**
 * The server no longer accepts the session (a 401): signed out here at once, with `why` shown on
 * the sign-in screen. The server is asked to clear the cookies; whatever it answers, this page
 * forgets its CSRF cookie, so a refused session is never taken up again on reload.
 */
export function sessionEnded(why: string): void {
  const csrf = currentSession();
  if (csrf === null) return;
  notice = why;
  ending = logout(csrf).finally(() => {
    clearCsrfCookie();
    ending = undefined;
    changed();
  });
  emit();
}

async function logout(csrf: string): Promise<boolean> {
  try {
    const res = await fetch('/session/logout', { method: 'POST', headers: { [CSRF_HEADER]: csrf } });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The server's answer clears both cookies; this one again, for an answer that never came or a
 * request without the session cookie (then the server clears nothing). Left behind, it would keep
 * taking up a session the server refuses.
 */
function clearCsrfCookie(): void {
  // biome-ignore lint/suspicious/noDocumentCookie: one fixed string, nothing to escape; the Cookie Store API is not in every browser yet.
  document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict`;
}

/** Removes the bearer token earlier versions kept in localStorage. Called once, on load. */
export function forgetLegacyToken(): void {
  try {
    localStorage.removeItem(LEGACY_TOKEN_KEY);
  } catch {
    // Storage unavailable (privacy settings): nothing can have been kept there either.
  }
}

export function takeSignOutNotice(): string | undefined {
  return notice;
}

function changed(): void {
  emit();
  channel?.postMessage('changed');
}

function emit(): void {
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // A cookie that expired while the tab was in the background.
  window.addEventListener('focus', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('focus', listener);
  };
}

/** The current session's name (see `currentSession`), or null when signed out. */
export function useSession(): string | null {
  return useSyncExternalStore(subscribe, currentSession);
}
