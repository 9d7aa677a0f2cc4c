import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatMoney } from './currencies';
import { paymentMethodObject } from './payment-methods';
import type { EmulatorState } from './store';
import {
  CHALLENGE_PATH,
  type Challenge,
  challengeOutcome,
  findChallenge,
  settleChallenge,
} from './three-d-secure';
import type { PaymentIntentObject } from './types';

const ROUTE = /^\/_emulator\/3ds\/(src_[A-Za-z0-9]+)(?:\/(complete|fail))?$/;

export interface ChallengeDeps {
  state: EmulatorState;
  /** Writes the state file before the browser is redirected. */
  persist(): void;
}

/**
 * The 3D Secure challenge page a `next_action` names, like Stripe's test page: `GET
 * /_emulator/3ds/src_...` shows the amount and two forms, which POST to `.../complete` and
 * `.../fail`. Either answers 303 to `return_url` with Stripe's query (or, confirmed without one,
 * a small result page). A second submit changes nothing and answers the same way again.
 */
export function handleChallengeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  { state, persist }: ChallengeDeps,
): void {
  const method = (req.method ?? 'GET').toUpperCase();
  const match = ROUTE.exec(url.pathname);
  const found = match?.[1] ? findChallenge(state, match[1]) : null;
  const action = match?.[2];
  if (!found || (action === undefined ? method !== 'GET' : method !== 'POST')) {
    sendHtml(res, 404, page('Not found', '<p>There is no such authentication page.</p>'));
    return;
  }
  const { record, challenge } = found;
  if (action === undefined) {
    sendHtml(res, 200, challengePage(record.pi, challenge));
    return;
  }
  const changed = settleChallenge(state, record, challenge, action === 'complete' ? 'succeeded' : 'failed');
  if (changed) persist();
  const { redirectUrl } = challengeOutcome(record, challenge, changed);
  if (redirectUrl !== null) {
    res.writeHead(303, { Location: redirectUrl, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
    return;
  }
  sendHtml(res, 200, challengePage(record.pi, challenge));
}

function challengePage(pi: PaymentIntentObject, challenge: Challenge): string {
  const card = (paymentMethodObject(challenge.paymentMethod).card ?? {}) as {
    brand?: string;
    last4?: string;
  };
  const details = `
    <dl>
      <dt>Amount</dt><dd id="amount">${escapeHtml(formatMoney(pi.amount, pi.currency))} ${escapeHtml(pi.currency.toUpperCase())}</dd>
      <dt>Card</dt><dd>${escapeHtml(card.brand ?? 'card')} ending in ${escapeHtml(card.last4 ?? '')}</dd>
      <dt>Payment</dt><dd>${escapeHtml(pi.id)}</dd>
    </dl>`;
  if (challenge.outcome !== 'pending') {
    const said = {
      succeeded: 'Authentication completed.',
      failed: 'Authentication failed.',
      declined: 'Authentication completed, but the card declined the payment.',
      superseded: 'This authentication is no longer pending.',
    }[challenge.outcome];
    return page('3D Secure 2 Test Page', `${details}\n    <p role="status">${said}</p>`);
  }
  const form = (verb: 'complete' | 'fail', label: string, describe: string) => `
    <form method="post" action="${CHALLENGE_PATH}${challenge.source}/${verb}">
      <button type="submit" aria-describedby="${verb}-help">${label}</button>
      <p id="${verb}-help">${describe}</p>
    </form>`;
  return page(
    '3D Secure 2 Test Page',
    `<p>This is a test authentication page of the Stripe emulator. Nothing is charged for real.</p>${details}
    ${form('complete', 'Complete', 'Authenticate the payment, as the cardholder passing the bank check.')}
    ${form('fail', 'Fail', 'Fail the authentication, as a cardholder who cannot pass the bank check.')}`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(title)}</title>
  </head>
  <body>
    <main aria-labelledby="title">
    <h1 id="title">${escapeHtml(title)}</h1>
    ${body}
    </main>
  </body>
</html>
`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
