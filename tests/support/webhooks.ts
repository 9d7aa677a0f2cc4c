import Stripe from 'stripe';

/** POSTs `body` to a server's `/webhooks/stripe`, signed with `secret` as Stripe signs it. */
export function deliverSigned(serverUrl: string, body: object, secret: string): Promise<Response> {
  const payload = JSON.stringify(body);
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({ payload, secret });
  return fetch(`${serverUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
}
