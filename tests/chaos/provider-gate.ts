import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy between the servers and the Stripe emulator, where a database fault can
 * be timed against a payment: `onNextCreate` runs a step when the next PaymentIntent create arrives,
 * before it is passed on (the fault lands while the provider call is in flight), and `onNextCharge`
 * when the emulator has charged one, before its answer goes back (the fault lands between the
 * provider's success and the finalize: the server finds the database gone when it records it).
 * Everything else, including each request's disconnect (a hang ends when the client gives up) and a
 * reset from the emulator, passes through as it is.
 */
export interface ProviderGate {
  url: string;
  /**
   * Runs `step` on the next create's way in, holding the request until it is done; resolves true once
   * it is, false if no create came within `timeoutMs` (then `step` never runs).
   */
  onNextCreate(step: () => Promise<void>, timeoutMs: number): Promise<boolean>;
  /** The same on the next charge's way out (succeeded, or authorized to capture later). */
  onNextCharge(step: () => Promise<void>, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

interface Waiter {
  step: () => Promise<void>;
  /** Taken by a request: no timeout any more. */
  claim(): void;
  /** Resolves the arming: the step ran (true), or nothing came (false). */
  done(ran: boolean): void;
}

const CREATE = /^\/v1\/payment_intents(\?|$)/;
const CHARGED = new Set(['succeeded', 'requires_capture']);

export async function startProviderGate(upstream: string): Promise<ProviderGate> {
  const target = new URL(upstream);
  const waiting: { create: Waiter[]; charge: Waiter[] } = { create: [], charge: [] };
  const take = (kind: keyof typeof waiting) => {
    const waiter = waiting[kind].shift();
    waiter?.claim();
    return waiter;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, isCreate: boolean) => {
    const headers = { ...req.headers, host: target.host };
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('error', () => res.socket?.destroy());
        answer.on('end', async () => {
          const text = Buffer.concat(chunks);
          const waiter = isCreate && answer.statusCode === 200 && charged(text) ? take('charge') : undefined;
          if (waiter) await runStep(waiter);
          if (res.destroyed) return;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(text);
        });
      },
    );
    // The emulator reset the connection (reset_after), or the caller gave up (its timeout on a hang).
    up.on('error', () => res.socket?.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the caller went away before it had sent its request
    }
    const isCreate = req.method === 'POST' && CREATE.test(req.url ?? '');
    const waiter = isCreate ? take('create') : undefined;
    if (waiter) await runStep(waiter);
    if (!res.destroyed) forward(req, res, Buffer.concat(chunks), isCreate);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const arm = (kind: keyof typeof waiting, step: () => Promise<void>, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const waiter: Waiter = { step, claim: () => clearTimeout(timer), done: resolve };
      const timer = setTimeout(() => {
        waiting[kind] = waiting[kind].filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      waiting[kind].push(waiter);
    });

  return {
    url: `http://127.0.0.1:${port}`,
    onNextCreate: (step, timeoutMs) => arm('create', step, timeoutMs),
    onNextCharge: (step, timeoutMs) => arm('charge', step, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of [...waiting.create, ...waiting.charge]) {
          w.claim();
          w.done(false);
        }
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The step's failure is the fault's to report (db-faults.ts); the request goes on either way. */
async function runStep(waiter: Waiter): Promise<void> {
  await waiter.step().catch(() => undefined);
  waiter.done(true);
}

function charged(body: Buffer): boolean {
  try {
    return CHARGED.has((JSON.parse(body.toString()) as { status?: string }).status ?? '');
  } catch {
    return false;
  }
}
