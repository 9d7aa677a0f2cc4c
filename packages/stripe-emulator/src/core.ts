import { Delays } from './delays';
import { FaultEngine, parseFaultPlan } from './faults';
import { Persistence, readStateFile, restoreState, snapshotState } from './persistence';
import { Settler } from './settle';
import { EmulatorState, isValidLatency, toEmulated, toEmulatedRefund } from './store';
import { settleLatestChallenge } from './three-d-secure';
import type { EmulatorOptions, StripeEmulator } from './types';
import { DEFAULT_WEBHOOK_CONFIG, mergeWebhookConfig, randomWebhookSecret } from './webhook-config';
import { WebhookDispatcher } from './webhooks';

/** The emulator's controls that do not depend on the HTTP listener. */
export type EmulatorControls = Omit<StripeEmulator, 'url' | 'port' | 'host' | 'setLatency' | 'close'>;

export interface Core {
  state: EmulatorState;
  faults: FaultEngine;
  delays: Delays;
  persistence: Persistence | null;
  controls(): EmulatorControls;
  /** Stops timers and deliveries and writes the state file one last time. */
  shutdown(): void;
}

function checkMs(name: string, value: unknown): number {
  if (!isValidLatency(value)) throw new RangeError(`${name} must be a non-negative number of milliseconds.`);
  return value;
}

/**
 * Wires state, faults, settle timers, webhook delivery and persistence together. Options are
 * validated here, once; a state file, when given, is loaded before anything is served, and explicit
 * webhook options win over the saved webhook config (so a restart can point at a new URL).
 */
export function createCore(options: EmulatorOptions): Core {
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be an integer.');
  const state = new EmulatorState(checkMs('latencyMs', options.latencyMs ?? 0));
  state.processingDelayMs = checkMs('processingDelayMs', options.processingDelayMs ?? 1000);
  state.refundDelayMs = checkMs('refundDelayMs', options.refundDelayMs ?? 1000);
  if (options.authorizationTtlMs !== undefined) {
    state.authorizationTtlMs = checkMs('authorizationTtlMs', options.authorizationTtlMs);
  }
  const ttl = options.idempotencyKeyTtlMs ?? null;
  state.idempotency.ttlMs = ttl === null ? null : checkMs('idempotencyKeyTtlMs', ttl);
  const faults = new FaultEngine(seed);
  if (options.faults !== undefined) faults.set(parseFaultPlan(options.faults));
  const delays = new Delays();

  let persistence: Persistence | null = null;
  const saveSoon = () => persistence?.saveSoon();
  const settler = new Settler(state, () => {
    saveSoon();
    dispatcher.notify();
  });
  const dispatcher = new WebhookDispatcher(
    state,
    { ...DEFAULT_WEBHOOK_CONFIG, secret: randomWebhookSecret() },
    seed,
    saveSoon,
    () => settler.pending() > 0,
  );
  state.listeners = {
    event: (event) => dispatcher.enqueue(event),
    processing: (record) => settler.schedule(record),
    refundSettling: (record) => settler.scheduleRefund(record),
    authorized: (record) => settler.scheduleExpiry(record),
  };

  if (options.stateFile !== undefined) {
    const saved = readStateFile(options.stateFile);
    if (saved) {
      restoreState(state, saved);
      dispatcher.load(saved.webhooks);
    }
    persistence = new Persistence(options.stateFile, () => snapshotState(state, dispatcher.save()));
  }
  const patch = { ...options.webhooks };
  if (options.webhookUrl !== undefined) patch.url = options.webhookUrl;
  if (options.webhookSecret !== undefined) patch.secret = options.webhookSecret;
  dispatcher.config = mergeWebhookConfig(dispatcher.config, patch);
  settler.resume();
  persistence?.saveNow();

  // The handle's and the admin route's Complete / Fail: persisted before the caller hears back.
  const settleChallengeNow = (id: string, result: 'succeeded' | 'failed') => {
    const outcome = settleLatestChallenge(state, id, result);
    if (outcome.changed) persistence?.saveNow();
    return outcome;
  };
  const controls = (): EmulatorControls => ({
    paymentIntents: () => state.paymentIntents().map(toEmulated),
    refunds: () => state.refunds().map(toEmulatedRefund),
    requestCount: () => state.requests,
    reset() {
      settler.cancelAll();
      state.reset();
      faults.resetCounters();
      dispatcher.reset();
      persistence?.saveNow();
    },
    setFaults: (plan) => faults.set(parseFaultPlan(plan)),
    clearFaults: () => faults.set(null),
    faultsApplied: () => faults.applied(),
    faultStatus: () => faults.status(),
    pruneIdempotencyKeys(olderThanMs) {
      const age = checkMs('olderThanMs', olderThanMs ?? state.idempotency.ttlMs ?? 0);
      const pruned = state.idempotency.prune(age);
      persistence?.saveNow();
      return pruned;
    },
    setIdempotencyKeyTtl(ms) {
      state.idempotency.ttlMs = ms === null ? null : checkMs('idempotencyKeyTtlMs', ms);
    },
    configureWebhooks: (p) => dispatcher.configure(p),
    webhookConfig: () => ({ ...dispatcher.config, enabledEvents: [...dispatcher.config.enabledEvents] }),
    webhookDeliveries: () => dispatcher.deliveries(),
    drainWebhooks: (timeoutMs) => dispatcher.drain(timeoutMs),
    events: () => state.events().map((r) => structuredClone(r.event)),
    setProcessingDelay(ms) {
      state.processingDelayMs = checkMs('processingDelayMs', ms);
    },
    setRefundDelay(ms) {
      state.refundDelayMs = checkMs('refundDelayMs', ms);
    },
    setAuthorizationTtl(ms) {
      state.authorizationTtlMs = checkMs('authorizationTtlMs', ms);
    },
    completeChallenge: (id) => settleChallengeNow(id, 'succeeded'),
    failChallenge: (id) => settleChallengeNow(id, 'failed'),
    expireApiKey(key) {
      state.expiredKeys.add(key);
    },
    save: () => persistence?.saveNow(),
  });

  return {
    state,
    faults,
    delays,
    get persistence() {
      return persistence;
    },
    controls,
    shutdown() {
      delays.abortAll();
      settler.cancelAll();
      dispatcher.close();
      persistence?.saveNow();
    },
  };
}
