import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { useEmulator } from './helpers';

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
  signature: string;
  event: { id: string; type: string; data: { object: { id: string; status: string } } };
}

/** A webhook endpoint for tests: records every POST; answers with `statuses` in turn, then 200. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Status codes for the next requests, consumed in order (then 200). */
  statuses: number[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { received, statuses: [] as number[] } as unknown as Receiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({
        body,
        headers: req.headers,
        signature: String(req.headers['stripe-signature']),
        event: JSON.parse(body),
      });
      res.writeHead(receiver.statuses.shift() ?? 200, { 'Content-Type': 'application/json' });
      res.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/**
 * One receiver for the whole file, handed to `assign` in `beforeAll` and closed in `afterAll`. Call
 * it before `useEmulator`: vitest runs afterAll hooks last-registered first, so the emulator closes
 * first and the receiver after it.
 */
export function useReceiver(assign: (receiver: Receiver) => void): void {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    assign(receiver);
  });
  afterAll(() => receiver.close());
}

/** A URL nothing listens on (a port freed right after binding it). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/webhooks/stripe`;
}

export interface ReceivingEnv {
  emulator: StripeEmulator;
  stripe: Stripe;
  receiver: Receiver;
  /** Every event the receiver got (signatures verified), once all deliveries are done. */
  delivered(): Promise<Stripe.Event[]>;
}

/**
 * A receiver and one emulator delivering to it, signed with `secret` (retries 5 ms apart), for the
 * whole file. Before each test, once the previous test's deliveries are done (so none lands in the
 * next test's receiver): reset, no faults, an empty receiver, then `each`.
 */
export function useReceivingEmulator(
  secret: string,
  assign: (env: ReceivingEnv) => void,
  each?: (emulator: StripeEmulator) => void,
): void {
  let receiver: Receiver;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  const delivered = async () => {
    await emulator.drainWebhooks();
    return receiver.received.map((r) => stripe.webhooks.constructEvent(r.body, r.signature, secret));
  };
  useReceiver((r) => {
    receiver = r;
  });
  useEmulator(
    (e) => {
      ({ emulator, stripe } = e);
      assign({ emulator, stripe, receiver, delivered });
    },
    { start: () => ({ webhookUrl: receiver.url, webhookSecret: secret, webhooks: { retryBaseMs: 5 } }) },
  );
  beforeEach(async () => {
    await emulator.drainWebhooks();
    emulator.reset();
    emulator.clearFaults();
    receiver.received.length = 0;
    each?.(emulator);
  });
}
