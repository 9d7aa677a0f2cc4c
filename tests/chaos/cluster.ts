import { type ChargeonceClient, createChargeonceClient } from '@chargeonce/client';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import { createRng, EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import { type ServerProcess, spawnServer } from '../support/processes';
import { type AnswerRecord, readAnswers } from './answers';
import { sleep } from './load';
import type { Scenario } from './scenario';

/** The order a request's input names (`{"orderId":"…"}`). */
const ORDER_ID = /"orderId":"([0-9a-f-]{36})"/;

/**
 * A server refuses to start while the database cannot be migrated (it is down): its start is tried
 * again this often, this many times, as a supervisor would.
 */
const START_RETRY_MS = 500;
const START_TRIES = 60;
/** What the report keeps of a server that exited on its own. */
const EXIT_OUTPUT_LINES = 40;

/** A server process that exited without the harness killing it. */
export interface Exit {
  instanceId: string;
  code: number | string;
  /** Its last output lines. */
  output: string[];
}

/** Not a secret: the signing key shared by the emulator and every server of a scenario. */
export const WEBHOOK_SECRET = 'whsec_chargeonce_chaos';

interface Slot {
  index: number;
  generation: number;
  server: ServerProcess | undefined;
  instanceId: string | undefined;
  /** Set while a restart is on its way, so two restarts of one slot never overlap. */
  starting: Promise<void> | undefined;
}

/**
 * The scenario's server processes, by slot. A slot's process can be SIGKILLed and restarted (on
 * a new port, with a new instance id); the emulator's webhook URL follows the webhook slot.
 */
export class Cluster {
  readonly slots: Slot[];
  kills = 0;
  /** Answers to mutations dropped on their way back to the caller (the client-side fault). */
  dropped = 0;
  /** Every answer a caller got (answers.ts), and the server processes that exited on their own. */
  readonly answers: AnswerRecord[] = [];
  readonly exits: Exit[] = [];
  /** Starts a server refused (exited before it served) and that were tried again. */
  startsRefused = 0;
  private readonly killed = new WeakSet<ServerProcess>();
  private stopped = false;
  private readonly drops;
  private readonly clients = new Map<string, ChargeonceClient>();
  /** Requests on their way, by URL without its query (`<server>/trpc/orders.refund`). */
  private readonly inFlight = new Map<string, number>();
  /** The same, with the order each names (`<server>/trpc/orders.capture <orderId>`). */
  private readonly inFlightOrders = new Map<string, number>();
  /** Output of the processes killed so far. */
  private readonly retired: string[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly databaseUrl: string,
    private readonly emulator: StripeEmulator,
    private readonly log: (line: string) => void,
    /** Where the servers reach the provider (a gate in front of the emulator), if not the emulator. */
    private readonly stripeApiBase = emulator.url,
  ) {
    this.drops = createRng(scenario.seed + 0x5eed);
    this.slots = Array.from({ length: scenario.instances }, (_, index) => ({
      index,
      generation: 0,
      server: undefined,
      instanceId: undefined,
      starting: undefined,
    }));
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
  }

  private env(instanceId: string): Record<string, string> {
    const s = this.scenario;
    return {
      DATABASE_URL: this.databaseUrl,
      DATABASE_POOL_MAX: '5',
      STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
      STRIPE_API_BASE: this.stripeApiBase,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_TIMEOUT_MS: String(s.stripeTimeoutMs),
      STRIPE_MAX_NETWORK_RETRIES: String(s.maxNetworkRetries),
      PORT: '0',
      CHARGEONCE_INSTANCE_ID: instanceId,
      CHARGEONCE_DEMO: 'off',
      CHARGEONCE_PAY_DEADLINE_MS: String(s.payDeadlineMs),
      CHARGEONCE_RECOVERY_INTERVAL_MS: String(s.recovery.intervalMs),
      CHARGEONCE_RECOVERY_GRACE_MS: String(s.recovery.graceMs),
      CHARGEONCE_RECOVERY_LEASE_MS: String(s.recovery.leaseMs),
      CHARGEONCE_PROVIDER_KEY_WINDOW_MS: String(s.recovery.keyWindowMs),
      CHARGEONCE_CHALLENGE_TIMEOUT_MS: String(s.challengeTimeoutMs),
      LOG_LEVEL: 'warn',
    };
  }

  private startSlot(slot: Slot): Promise<void> {
    if (slot.starting) return slot.starting;
    const starting = (async () => {
      slot.generation++;
      const instanceId = `chaos-s${slot.index}-g${slot.generation}`;
      const server = await this.spawn(instanceId);
      if (this.stopped) {
        await server.stop('SIGKILL');
        return;
      }
      slot.server = server;
      slot.instanceId = instanceId;
      void server.exited.then((code) => this.exitedOnItsOwn(slot, server, instanceId, code));
      if (slot.index === this.scenario.webhooks.slot) {
        // The emulator keeps retrying deliveries while this slot is down; point them at its new port.
        this.emulator.configureWebhooks({ url: `${server.url}/webhooks/stripe` });
      }
    })().finally(() => {
      slot.starting = undefined;
    });
    slot.starting = starting;
    return starting;
  }

  /**
   * A violation (the audit reports it), but the scenario goes on as under a supervisor: the slot is
   * started again, so that what else the run would find is still found.
   */
  private exitedOnItsOwn(slot: Slot, server: ServerProcess, instanceId: string, code: number | string) {
    if (this.killed.has(server) || this.stopped) return;
    this.exits.push({ instanceId, code, output: server.output.slice(-EXIT_OUTPUT_LINES) });
    this.log(`  ${instanceId} EXITED on its own (${code}); starting it again`);
    this.retired.push(...server.output);
    if (slot.server === server) slot.server = undefined;
    setTimeout(() => {
      if (!this.stopped)
        this.startSlot(slot).catch((err) => this.log(`  restart of ${slot.index} failed: ${err}`));
    }, START_RETRY_MS);
  }

  /** A server process, started again (bounded) while it refuses to start: exits before it is ready. */
  private async spawn(instanceId: string): Promise<ServerProcess> {
    for (let tries = 1; ; tries++) {
      try {
        return await spawnServer(this.env(instanceId));
      } catch (err) {
        if (this.stopped || tries >= START_TRIES || !/exited .* before it was ready/.test(String(err)))
          throw err;
        this.startsRefused++;
        await sleep(START_RETRY_MS);
      }
    }
  }

  live(): Slot[] {
    return this.slots.filter(
      (s) => s.server && s.server.child.exitCode === null && s.server.child.signalCode === null,
    );
  }

  slotOf(instanceId: string): Slot | undefined {
    return this.live().find((s) => s.instanceId === instanceId);
  }

  /** SIGKILL a slot's process; optionally restart it after `restartAfterMs`. Never kills the last live one. */
  async kill(slot: Slot, why: string, restartAfterMs: number | null): Promise<boolean> {
    const server = slot.server;
    if (!server || this.live().length <= 1 || !this.live().includes(slot)) return false;
    slot.server = undefined;
    slot.instanceId = undefined;
    this.kills++;
    this.log(`  kill ${slot.index} (${why})`);
    this.killed.add(server);
    await server.stop('SIGKILL');
    this.retired.push(...server.output);
    if (restartAfterMs !== null) {
      setTimeout(() => {
        if (!this.stopped)
          this.startSlot(slot).catch((err) => this.log(`  restart of ${slot.index} failed: ${err}`));
      }, restartAfterMs);
    }
    return true;
  }

  /** A client for a live server, the `n`th modulo the live ones (callers spread duplicates this way). */
  client(token: string, n: number): ChargeonceClient | undefined {
    const live = this.live();
    if (live.length === 0) return undefined;
    const url = live[n % live.length]!.server!.url;
    const key = `${url} ${token}`;
    let client = this.clients.get(key);
    if (!client) {
      // Each try is cut at 20 s (a process that hangs would otherwise hold the scenario; pays are
      // bounded by the pay deadline plus the provider timeout on a live server) and retried.
      client = createChargeonceClient({ url, token, fetch: this.dropping, timeoutMs: 20_000 });
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * fetch, with the client-side fault: a share (`dropAnswers`) of the answers to mutations is read
   * in full (the server did the work and answered) and then thrown away, and the caller gets a
   * network error instead, as when a connection dies on the way back.
   */
  private readonly dropping: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const call = url.split('?')[0]!;
    // Mutations go unbatched (one input per request): the order it names, if any.
    const orderId = typeof init?.body === 'string' ? ORDER_ID.exec(init.body)?.[1] : undefined;
    const perOrder = orderId ? `${call} ${orderId}` : undefined;
    this.inFlight.set(call, (this.inFlight.get(call) ?? 0) + 1);
    if (perOrder) this.inFlightOrders.set(perOrder, (this.inFlightOrders.get(perOrder) ?? 0) + 1);
    try {
      const res = await fetch(input, init);
      if (call.includes('/trpc/')) this.answers.push(...(await readAnswers(res.clone(), url, init?.body)));
      if (init?.method !== 'POST' || !this.drops.chance(this.scenario.dropAnswers)) return res;
      await res.arrayBuffer();
      this.dropped++;
      throw new TypeError('fetch failed: the answer was dropped on its way back (chaos)');
    } finally {
      this.inFlight.set(call, this.inFlight.get(call)! - 1);
      if (perOrder) this.inFlightOrders.set(perOrder, this.inFlightOrders.get(perOrder)! - 1);
    }
  };

  /** A live slot serving a call of `procedure` (e.g. `orders.refund`) right now, if any. */
  serving(procedure: string): Slot | undefined {
    return this.live().find((s) => (this.inFlight.get(`${s.server!.url}/trpc/${procedure}`) ?? 0) > 0);
  }

  /** Live slots serving a call of one of `procedures` for an order right now, with the order. */
  servingOrders(procedures: readonly string[]): { slot: Slot; orderId: string }[] {
    return this.live().flatMap((slot) =>
      [...this.inFlightOrders].flatMap(([call, n]) => {
        const [url, orderId] = call.split(' ');
        const serves = procedures.some((p) => url === `${slot.server!.url}/trpc/${p}`);
        return n > 0 && serves && orderId ? [{ slot, orderId }] : [];
      }),
    );
  }

  /** Before the settle: the webhook slot runs (deliveries can land) and so does a recovery worker. */
  async ensureSettleable(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.starting).filter(Boolean));
    const webhookSlot = this.slots[this.scenario.webhooks.slot]!;
    if (!this.live().includes(webhookSlot)) await this.startSlot(webhookSlot);
  }

  /** Warnings and errors the servers logged (for a failure report), killed processes included. */
  output(): string[] {
    return this.retired.concat(this.live().flatMap((s) => s.server!.output));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.slots.map((s) => s.starting?.catch(() => {})));
    await Promise.all(this.slots.map((s) => s.server?.stop('SIGKILL')));
    for (const s of this.slots) s.server = undefined;
  }
}
