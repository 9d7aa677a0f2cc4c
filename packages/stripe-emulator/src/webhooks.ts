import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { nowSeconds, randomId } from './ids';
import { createRandom, type Random, shuffle } from './prng';
import type { EmulatorState } from './store';
import type { StripeEvent, WebhookAttempt, WebhookConfig } from './types';
import { eventEnabled, mergeWebhookConfig, signatureHeader } from './webhook-config';

/** One delivery of one event (a duplicate is a second delivery of the same event). */
export interface DeliveryJob {
  id: string;
  eventId: string;
  /** Attempts made so far. */
  attempts: number;
  /** Not before (ms since epoch). */
  dueAt: number;
  duplicate: boolean;
}

export interface SavedWebhooks {
  config: WebhookConfig;
  jobs: DeliveryJob[];
}

const LOG_LIMIT = 10_000;

/**
 * Delivers events to the configured endpoint, one attempt at a time in (due time, queue order): a
 * single in-flight POST keeps the delivery order exactly the queue order, which is what makes the
 * seeded reordering and duplicates reproducible. At least once: a delivery is only finished by a 2xx
 * or by running out of attempts; one in flight when the process stops is attempted again on load.
 */
export class WebhookDispatcher {
  config: WebhookConfig;
  private queue: (DeliveryJob & { seq: number })[] = [];
  private held: (DeliveryJob & { seq: number })[] = [];
  private heldTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private inFlight: { job: DeliveryJob; abort(): void } | null = null;
  private log: WebhookAttempt[] = [];
  private waiters = new Set<() => void>();
  private random: Random;
  private seq = 0;
  /** Bumped by reset(): a POST that was in flight across a reset must not touch the new state. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly state: EmulatorState,
    config: WebhookConfig,
    private readonly seed: number,
    /** Called after every change worth persisting (queue contents). */
    private readonly onChange: () => void,
    /** Other pending work that will emit events (processing PIs); drain waits for it too. */
    private readonly busyElsewhere: () => boolean = () => false,
  ) {
    this.config = config;
    this.random = createRandom(seed, 'webhooks');
  }

  /** A new event: queue its delivery (and maybe a duplicate), unless no endpoint wants it. */
  enqueue(event: StripeEvent): void {
    const { config } = this;
    if (config.url !== null && eventEnabled(config, event.type)) {
      event.pending_webhooks = 1;
      const p = config.duplicateProbability;
      const copies = p >= 1 || (p > 0 && this.random() < p) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const job = {
          id: randomId('whd'),
          eventId: event.id,
          attempts: 0,
          dueAt: Date.now() + config.delayMs,
          duplicate: i > 0,
          seq: ++this.seq,
        };
        if (config.reorderWindowMs > 0) this.hold(job);
        else this.insert(job);
      }
      this.onChange();
    }
    this.kick();
  }

  configure(patch: unknown): WebhookConfig {
    this.config = mergeWebhookConfig(this.config, patch);
    this.onChange();
    this.kick();
    return { ...this.config, enabledEvents: [...this.config.enabledEvents] };
  }

  deliveries(): WebhookAttempt[] {
    return this.log.map((a) => ({ ...a }));
  }

  idle(): boolean {
    return (
      this.queue.length === 0 && this.held.length === 0 && this.inFlight === null && !this.busyElsewhere()
    );
  }

  /** Re-checks drain waiters; the emulator calls it when other pending work finishes. */
  notify(): void {
    for (const check of [...this.waiters]) check();
  }

  drain(timeoutMs = 10_000): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.idle()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        const pending = this.queue.length + this.held.length + (this.inFlight ? 1 : 0);
        reject(new Error(`webhooks not drained after ${timeoutMs} ms (${pending} deliveries pending)`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  save(): SavedWebhooks {
    const jobs = [...this.queue, ...this.held].sort((a, b) => a.seq - b.seq);
    if (this.inFlight) jobs.unshift({ ...this.inFlight.job, seq: 0 });
    return { config: this.config, jobs: jobs.map(({ seq: _seq, ...job }) => ({ ...job })) };
  }

  /** After a restart, pending deliveries are due at once (in their saved order): backoff starts over. */
  load(saved: SavedWebhooks): void {
    this.config = mergeWebhookConfig(this.config, saved.config);
    const now = Date.now();
    for (const job of saved.jobs) this.insert({ ...job, dueAt: Math.min(job.dueAt, now), seq: ++this.seq });
    this.kick();
  }

  reset(): void {
    this.generation++;
    this.inFlight?.abort();
    this.inFlight = null;
    this.queue = [];
    this.held = [];
    this.log = [];
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    this.random = createRandom(this.seed, 'webhooks');
    this.kick();
  }

  close(): void {
    this.closed = true;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.inFlight?.abort();
  }

  /** Reordering: collect deliveries for one window, then release them shuffled (seeded). */
  private hold(job: DeliveryJob & { seq: number }): void {
    this.held.push(job);
    this.heldTimer ??= setTimeout(() => {
      this.heldTimer = null;
      const batch = shuffle(this.held, this.random);
      this.held = [];
      // One common due time, so the queue order is the shuffled order.
      const dueAt = Math.max(Date.now(), ...batch.map((j) => j.dueAt));
      for (const j of batch) this.insert({ ...j, dueAt, seq: ++this.seq });
      this.kick();
    }, this.config.reorderWindowMs);
  }

  private insert(job: DeliveryJob & { seq: number }): void {
    const at = this.queue.findIndex((q) => q.dueAt > job.dueAt || (q.dueAt === job.dueAt && q.seq > job.seq));
    if (at === -1) this.queue.push(job);
    else this.queue.splice(at, 0, job);
  }

  private kick(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const next = this.queue[0];
    if (!this.closed && this.inFlight === null && this.config.url !== null && next) {
      const wait = next.dueAt - Date.now();
      if (wait > 0) this.wakeTimer = setTimeout(() => this.kick(), wait);
      else this.send(this.queue.shift() as DeliveryJob & { seq: number }, this.config.url);
    }
    this.notify();
  }

  private send(job: DeliveryJob & { seq: number }, url: string): void {
    const record = this.state.getEvent(job.eventId);
    if (!record) {
      this.kick();
      return;
    }
    const { secret, timeoutMs } = this.config;
    const body = JSON.stringify(record.event, null, 2);
    const attempt = job.attempts + 1;
    const at = Date.now();
    const generation = this.generation;
    const post = postJson(url, body, signatureHeader(body, secret, nowSeconds()), timeoutMs);
    this.inFlight = { job, abort: post.abort };
    void post.result.then(({ statusCode, error }) => {
      if (generation !== this.generation || this.closed) return;
      this.inFlight = null;
      job.attempts = attempt;
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      const final = ok || attempt >= this.config.maxAttempts;
      this.log.push({
        deliveryId: job.id,
        eventId: job.eventId,
        eventType: record.event.type,
        attempt,
        duplicate: job.duplicate,
        url,
        statusCode,
        error,
        ok,
        final,
        at,
      });
      if (this.log.length > LOG_LIMIT) this.log.shift();
      if (ok) record.event.pending_webhooks = 0;
      if (!final) {
        const backoff = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** (attempt - 1));
        this.insert({ ...job, dueAt: Date.now() + backoff, seq: ++this.seq });
      }
      this.onChange();
      this.kick();
    });
  }
}

interface PostResult {
  statusCode: number | null;
  error: string | null;
}

/** One POST on a fresh connection (no keep-alive: a restarted receiver must not see a stale socket). */
function postJson(
  url: string,
  body: string,
  signature: string,
  timeoutMs: number,
): { result: Promise<PostResult>; abort(): void } {
  let abort = () => {};
  const result = new Promise<PostResult>((resolve) => {
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      agent: false,
      timeout: timeoutMs,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'Stripe-Signature': signature,
      },
    });
    req.on('response', (res) => {
      res.resume();
      done({ statusCode: res.statusCode ?? null, error: null });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => done({ statusCode: null, error: err.message }));
    abort = () => {
      req.destroy(new Error('emulator stopped'));
    };
    req.end(body);
  });
  return { result, abort: () => abort() };
}
