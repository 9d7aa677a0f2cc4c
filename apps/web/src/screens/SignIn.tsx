import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { PageHeading } from '../components/PageHeading';
import { type SignInResult, signIn, takeSignOutNotice } from '../session';

const DEMO_UNAVAILABLE = 'The demo token could not be fetched. Try again in a moment.';

/**
 * The server offers the demo user's token only when it seeded one (nothing configured, local
 * caller). Asked with HEAD first, so the token is fetched only when the button is pressed.
 */
async function hasDemoToken(): Promise<boolean> {
  const res = await fetch('/demo-token', { method: 'HEAD' });
  return res.ok;
}

async function fetchDemoToken(): Promise<string | null> {
  const res = await fetch('/demo-token', { headers: { accept: 'application/json' } });
  if (!res.ok) return null;
  const body = (await res.json()) as { token?: unknown };
  return typeof body.token === 'string' ? body.token : null;
}

export function SignIn() {
  const inputId = useId();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(takeSignOutNotice);
  const [busy, setBusy] = useState(false);
  const demo = useQuery({
    queryKey: ['demo-token'],
    queryFn: hasDemoToken,
    staleTime: Infinity,
    retry: false,
  });

  const begin = () => {
    setBusy(true);
    setError(undefined);
  };
  // On success the session changes and this screen goes; a refusal is reported here.
  const finish = (result: SignInResult) => {
    if (result.ok) return;
    setError(result.message);
    setBusy(false);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = token.trim();
    if (!trimmed) {
      setError('Enter your API token.');
      return;
    }
    begin();
    void signIn(trimmed).then(finish);
  };

  const signInAsDemo = async () => {
    begin();
    const demoToken = await fetchDemoToken().catch(() => null);
    finish(demoToken ? await signIn(demoToken) : { ok: false, message: DEMO_UNAVAILABLE });
  };

  return (
    <>
      <PageHeading title="Sign in">Sign in</PageHeading>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <label htmlFor={inputId}>API token</label>
        <input
          id={inputId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={error ? `${inputId}-error` : undefined}
        />
        {error ? (
          <p id={`${inputId}-error`} role="alert" className="error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {demo.data ? (
        <section className="panel" aria-labelledby="demo-heading">
          <h2 id="demo-heading">Demo</h2>
          <p>
            This server runs with a demo user. Sign in as the demo user to try chargeonce with test cards.
          </p>
          <button type="button" disabled={busy} onClick={() => void signInAsDemo()}>
            Use the demo token
          </button>
        </section>
      ) : null}
    </>
  );
}
