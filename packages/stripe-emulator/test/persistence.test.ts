import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStripeEmulator } from '../src/index';
import { rejectionOf, stripeFor, TEST_KEY } from './helpers';
import { type Receiver, startReceiver } from './receiver';

const SECRET = 'whsec_test_persistence_0123456789';
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  receiver = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
});
afterAll(async () => {
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const charge: Stripe.PaymentIntentCreateParams = {
  amount: 4200,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  metadata: { order_id: 'ord_persist' },
};

describe('state file', () => {
  it('keeps PaymentIntents, idempotency keys, events, webhook config and pending deliveries across a restart', async () => {
    const stateFile = join(dir, 'nested', 'state.json');
    const first = await startStripeEmulator({
      stateFile,
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhooks: { retryBaseMs: 60_000 },
      processingDelayMs: 1500, // still processing when the first process stops
    });
    // The endpoint is failing while the first process runs: each PaymentIntent's `created` event
    // and its outcome event (succeeded / processing) stay pending.
    receiver.statuses.push(503, 503, 503, 503);
    const pi = await stripeFor(first).paymentIntents.create(charge, { idempotencyKey: 'persist-1' });
    const processing = await stripeFor(first).paymentIntents.create({
      ...charge,
      payment_method: 'pm_card_visa_processing',
    });
    await vi.waitFor(() => expect(first.webhookDeliveries()).toHaveLength(4));
    await first.close();
    expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json']); // no temp file left behind

    receiver.received.length = 0;
    const second = await startStripeEmulator({ stateFile }); // no webhook options: the saved ones apply
    try {
      const stripe = stripeFor(second);
      expect(second.paymentIntents().map((p) => p.id)).toEqual([pi.id, processing.id]);
      expect(second.webhookConfig()).toMatchObject({
        url: receiver.url,
        secret: SECRET,
        retryBaseMs: 60_000,
      });

      const replay = await stripe.paymentIntents.create(charge, { idempotencyKey: 'persist-1' });
      expect(replay.id).toBe(pi.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
      const mismatch = await rejectionOf(
        // A valid amount (1 is under Stripe's USD minimum), so only the key reuse is wrong.
        stripe.paymentIntents.create({ ...charge, amount: 4201 }, { idempotencyKey: 'persist-1' }),
      );
      expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');

      // The pending deliveries go out after the restart (signed with the saved secret), and the
      // processing PaymentIntent settles on the saved schedule.
      await second.drainWebhooks();
      expect((await stripe.paymentIntents.retrieve(processing.id)).status).toBe('succeeded');
      const types = receiver.received.map(
        (r) => stripe.webhooks.constructEvent(r.body, r.signature, SECRET).type,
      );
      expect(types).toEqual([
        'payment_intent.created',
        'payment_intent.succeeded',
        'payment_intent.created',
        'payment_intent.processing',
        'payment_intent.succeeded',
      ]);
      expect((await stripe.events.list()).data).toHaveLength(5);
      expect(second.paymentIntents()).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it('fills in the fields a PaymentIntent saved by an older emulator lacks', async () => {
    const stateFile = join(dir, 'old-fields.json');
    const first = await startStripeEmulator({ stateFile });
    const pi = await stripeFor(first).paymentIntents.create(charge);
    await first.close();
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
    const added = [
      'allowed_payment_method_types',
      'customer_account',
      'hooks',
      'payment_record',
      'presentment_details',
    ];
    for (const field of added) delete saved.paymentIntents[0].pi[field];
    writeFileSync(stateFile, JSON.stringify(saved));
    const second = await startStripeEmulator({ stateFile });
    try {
      const restored = await stripeFor(second).paymentIntents.retrieve(pi.id);
      expect(Object.keys(restored).sort()).toEqual(Object.keys(pi).sort());
      expect(restored).toMatchObject({ hooks: {}, presentment_details: { presentment_amount: 4200 } });
    } finally {
      await second.close();
    }
  });

  it('refuses to start on a corrupt state file', async () => {
    const stateFile = join(dir, 'corrupt.json');
    writeFileSync(stateFile, '{"version": 1, "paymentIntents": ');
    await expect(startStripeEmulator({ stateFile })).rejects.toThrow(/cannot read state file/);
    writeFileSync(stateFile, '{"hello": "world"}');
    await expect(startStripeEmulator({ stateFile })).rejects.toThrow(/not an emulator state file/);
  });

  it('pruned keys are not resurrected by a restart', async () => {
    const stateFile = join(dir, 'pruned.json');
    const first = await startStripeEmulator({ stateFile });
    await stripeFor(first).paymentIntents.create(charge, { idempotencyKey: 'gone' });
    expect(first.pruneIdempotencyKeys(0)).toBe(1);
    await first.close();
    const second = await startStripeEmulator({ stateFile });
    try {
      await stripeFor(second).paymentIntents.create(charge, { idempotencyKey: 'gone' });
      expect(second.paymentIntents()).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});

/** Starts the CLI and resolves with its port once it has printed its URL line. */
async function startCli(args: string[]): Promise<{ port: number; stop(): Promise<number | null> }> {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  // Node itself with tsx's loader, not the tsx CLI: that wrapper relays signals to a child process,
  // and under load the relay can race the exit code this test asserts on.
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), cli, '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`cli exited early with ${code}: ${stderr}`)));
  });
  expect(line).toMatch(/^stripe emulator: http:\/\/127\.0\.0\.1:\d+\n$/);
  return {
    port: Number(/:(\d+)\n$/.exec(line)?.[1]),
    stop: () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('cli as its own process', () => {
  it('honours --state-file, --seed, --webhook-url and --webhook-secret across a restart', async () => {
    const stateFile = join(dir, 'cli.json');
    receiver.received.length = 0;
    const first = await startCli([
      '--state-file',
      stateFile,
      '--seed',
      '42',
      '--webhook-url',
      receiver.url,
      '--webhook-secret',
      SECRET,
    ]);
    let pi: Stripe.PaymentIntent;
    try {
      const stripe = new Stripe(TEST_KEY, { host: '127.0.0.1', port: first.port, protocol: 'http' });
      pi = await stripe.paymentIntents.create(charge, { idempotencyKey: 'cli-1' });
      await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 5000 });
      expect(
        receiver.received.map((d) => stripe.webhooks.constructEvent(d.body, d.signature, SECRET).type),
      ).toEqual(['payment_intent.created', 'payment_intent.succeeded']);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(saved.paymentIntents).toHaveLength(1);

    const second = await startCli(['--state-file', stateFile]);
    try {
      const stripe = new Stripe(TEST_KEY, { host: '127.0.0.1', port: second.port, protocol: 'http' });
      const replay = await stripe.paymentIntents.create(charge, { idempotencyKey: 'cli-1' });
      expect(replay.id).toBe(pi.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
      const config = await fetch(`http://127.0.0.1:${second.port}/_emulator/webhooks`).then((r) => r.json());
      expect(config).toMatchObject({ url: receiver.url, secret: SECRET });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 30_000);
});
