import { createDb, createService, createUserWithToken, type DbHandle, issueToken } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { type FaultRule, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { auditCallers, type CallerCounts } from './answers';
import { Cluster, WEBHOOK_SECRET } from './cluster';
import { DbChaos, type DbFaultCounts, noDbFaults } from './db-chaos';
import { orderHistory } from './history';
import { auditHolds, type CaptureRow, type HoldAudit } from './hold-invariants';
import {
  type Audit,
  audit,
  auditCreates,
  type CreateAnswer,
  type CreatedRow,
  merge,
  type OrderRow,
  type StuckAttempt,
} from './invariants';
import { runKills } from './kills';
import { createOnce, sleep, type Tally } from './load';
import { emptyLoad, type Load, orderLoad } from './mix-load';
import { auditCancels, auditRefunds, type RefundRow } from './refund-invariants';
import { type Scenario, VISA } from './scenario';
import { IN_FLIGHT, settle, startPruner } from './settle';

/** What the holds and challenges came to (hold-invariants.ts), and the logical captures and voids made. */
export type HoldCounts = Omit<HoldAudit, 'violations' | 'details' | 'orderIds'> & {
  captureCalls: number;
  voidCalls: number;
};

export interface ScenarioResult {
  audit: Audit;
  kills: number;
  faults: number;
  orders: number;
  /** Logical creates (each under its own key), and answers to mutations dropped on the way back. */
  creates: number;
  dropped: number;
  pruned: number;
  /** Logical refunds and cancels (each under its own key), and what they came to. */
  refunds: number;
  refundsSucceeded: number;
  providerRefunded: number;
  cancels: number;
  canceled: number;
  holds: HoldCounts;
  settled: boolean;
  tally: Tally;
  /** Every answer the callers got, and what the database faults (--db-faults) came to. */
  callers: CallerCounts;
  db: DbFaultCounts;
  /** Server starts refused (the database down) and tried again; webhook deliveries answered 500. */
  startsRefused: number;
  webhook500: number;
  /** Server warnings/errors about the orders in a violation (empty when there is none). */
  evidence: string[];
  /** Those orders' rows and provider history (`orderHistory`; empty when there is none). */
  history: string[];
}

/** Registered by the caller so that SIGINT/SIGTERM can stop what a running scenario started. */
export type CleanupRegistry = (cleanup: (() => Promise<void>) | undefined) => void;

/**
 * One scenario: a throwaway PostgreSQL, the emulator in this process (so its ledger and keys
 * outlive every server restart), `instances` server processes, the load with faults and kills,
 * then the settle and the audit.
 */
export async function runScenario(
  scenario: Scenario,
  log: (line: string) => void,
  register: CleanupRegistry,
): Promise<ScenarioResult> {
  let database: TestDatabase | undefined;
  let emulator: StripeEmulator | undefined;
  let db: DbHandle | undefined;
  let cluster: Cluster | undefined;
  let pruner: ReturnType<typeof startPruner> | undefined;
  let dbChaos: DbChaos | undefined;
  let stopped = false;
  const cleanup = async () => {
    stopped = true;
    pruner?.stop();
    await dbChaos?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
    await db?.close().catch(() => {});
    await emulator?.close().catch(() => {});
    await database?.stop().catch(() => {});
  };
  register(cleanup);
  const t0 = Date.now();
  try {
    // Crashed on purpose (--db-faults): every acknowledged commit must survive it.
    database = await startTestDatabase({ crashSafe: scenario.dbFaults.length > 0 });
    emulator = await startStripeEmulator({
      seed: scenario.seed,
      refundDelayMs: scenario.refundDelayMs,
      webhookSecret: WEBHOOK_SECRET,
      webhooks: {
        duplicateProbability: scenario.webhooks.duplicateProbability,
        reorderWindowMs: scenario.webhooks.reorderWindowMs,
        delayMs: scenario.webhooks.delayMs,
        retryBaseMs: scenario.webhooks.retryBaseMs,
        // Deliveries keep being retried (about 30 s) while the webhook slot is down or restarting.
        retryMaxMs: 1000,
        maxAttempts: 30,
        timeoutMs: 5000,
      },
    });
    db = createDb(database.url, { max: 3, applicationName: 'chaos' });
    dbChaos = await DbChaos.start(scenario, database, emulator.url);
    cluster = new Cluster(scenario, database.url, emulator, log, dbChaos?.gate.url);
    await cluster.start();
    const user = await createUserWithToken(db.db, { name: 'chaos' });
    // The merchant's back office: captures and voids need a service token (user tokens lack the scope).
    const merchant = await createService(db.db, { name: 'chaos-merchant' });
    const { token: merchantToken } = await issueToken(db.db, {
      owner: { kind: 'service', serviceId: merchant.id },
      scopes: ['orders:read', 'orders:capture'],
    });
    const actors = { merchantToken, emulator };

    // Orders first (no provider call), so that slow-order fault rules can name them. Answers are
    // already dropped now and then: each create is under its key, retried until it is answered.
    const createKeys = new Set<string>();
    const createAnswers: CreateAnswer[] = [];
    const load = emptyLoad();
    const tally = load.tally;
    const orderIds: string[] = [];
    for (const [i, plan] of scenario.orders.entries()) {
      const key = `chaos-${scenario.seed}-order-${i}`;
      createKeys.add(key);
      const input = {
        amount: plan.amount,
        currency: plan.currency,
        paymentMethodId: plan.card,
        ...(plan.captureMethod === 'manual' ? { captureMethod: plan.captureMethod } : {}),
      };
      const id = await createOnce(cluster, user.token, key, input, 1, createAnswers, tally);
      if (!id) throw new Error(`order ${i} could not be created: ${JSON.stringify(tally)}`);
      orderIds.push(id);
    }
    const slowRules: FaultRule[] = scenario.orders.flatMap((plan, i) =>
      plan.slow
        ? [
            {
              fault: plan.slow.fault,
              operation: 'payment_intents.create',
              metadata: { order_id: orderIds[i]! },
              ms: plan.slow.ms,
              times: 1,
            },
          ]
        : [],
    );
    emulator.setFaults({ seed: scenario.seed, rules: [...slowRules, ...scenario.faults] });

    pruner = scenario.pruneKeys ? startPruner(emulator, scenario.recovery.keyWindowMs) : undefined;
    const loadStart = Date.now();
    log(`  ready in ${((loadStart - t0) / 1000).toFixed(1)}s`);
    await Promise.all([
      ...scenario.orders.map(async (plan, i) => {
        await sleep(loadStart + plan.startMs - Date.now());
        const keyPrefix = `chaos-${scenario.seed}-order-${i}`;
        await orderLoad(cluster!, user.token, keyPrefix, orderIds[i]!, plan, load, actors);
      }),
      ...scenario.creates.map(async (plan, j) => {
        await sleep(loadStart + plan.startMs - Date.now());
        const key = `chaos-${scenario.seed}-create-${j}`;
        createKeys.add(key);
        const input = { amount: plan.amount, currency: plan.currency, paymentMethodId: VISA };
        await createOnce(cluster!, user.token, key, input, plan.copies, createAnswers, tally);
      }),
      runKills(scenario.kills, loadStart, cluster, db, emulator, () => stopped),
      dbChaos?.run(loadStart, cluster, log, () => stopped),
    ]);
    await dbChaos?.recovered(db);

    log(`  load done in ${((Date.now() - loadStart) / 1000).toFixed(1)}s`);
    const settleStart = Date.now();
    const settled = await settle(cluster, db, emulator);
    log(`  settled=${settled} in ${((Date.now() - settleStart) / 1000).toFixed(1)}s`);
    pruner?.stop();
    const orders = [
      ...(await db.sql<OrderRow[]>`
        select id, status, payment_intent_id, amount, currency, refunded_amount, capture_method, captured_amount
          from orders`),
    ];
    const stuck = await db.sql<StuckAttempt[]>`
      select id, order_id, claimed_by, idempotency_key from payment_attempts where status = any(${IN_FLIGHT}::attempt_status[])`;
    const ledger = emulator.paymentIntents();
    const result = audit(orders, [...stuck], ledger, load.pays);
    const created = await db.sql<CreatedRow[]>`
      select o.id, k.key from orders o left join idempotency_keys k on k.id = o.idempotency_key_id
      where o.user_id = ${user.id}`;
    const creates = auditCreates(createKeys, [...created], createAnswers);
    result.violations.duplicateOrders = creates.duplicateOrders;
    result.violations.lostOrders = creates.lostOrders;
    result.details.push(...creates.details);
    const refundRows = await db.sql<RefundRow[]>`
      select r.id, r.order_id, r.amount, r.status, r.stripe_refund_id, k.key
        from refunds r left join idempotency_keys k on k.id = r.idempotency_key_id`;
    const refunds = auditRefunds(
      orders,
      [...refundRows],
      ledger,
      emulator.refunds(),
      load.refundKeys,
      load.refunds,
    );
    const cancels = auditCancels(orders, ledger, load.cancels);
    const captureRows = await db.sql<CaptureRow[]>`
      select id, order_id, attempt_id, payment_intent_id, kind, amount, status from captures`;
    const holds = auditHolds(orders, [...captureRows], ledger, load);
    merge(result, refunds);
    merge(result, cancels);
    merge(result, holds);
    const cards = new Map(scenario.orders.map((plan, i) => [orderIds[i]!, plan.card as string]));
    const told = { answers: cluster.answers, pays: load.pays, exits: cluster.exits };
    const callers = auditCallers(told, orders, ledger, cards);
    merge(result, callers);
    const dbAudit = await dbChaos?.audit(cluster);
    if (dbAudit) merge(result, dbAudit);
    const evidence = cluster
      .output()
      .filter((line) => [...result.orderIds].some((id) => line.includes(id)))
      .slice(-50);
    const history =
      result.orderIds.size > 0
        ? await orderHistory(db, emulator, result.orderIds).catch((err) => [`history failed: ${err}`])
        : [];
    return {
      audit: result,
      kills: cluster.kills,
      faults: emulator.faultsApplied(),
      orders: orderIds.length,
      creates: createKeys.size,
      dropped: cluster.dropped,
      pruned: pruner?.pruned() ?? 0,
      refunds: load.refundKeys.size,
      refundsSucceeded: refunds.refundsSucceeded,
      providerRefunded: refunds.providerRefunded,
      cancels: load.cancelKeys.size,
      canceled: cancels.canceled,
      holds: holdCounts(holds, load),
      settled,
      tally,
      callers,
      db: dbAudit ?? noDbFaults(),
      startsRefused: cluster.startsRefused,
      webhook500: emulator.webhookDeliveries().filter((d) => d.statusCode === 500).length,
      evidence,
      history,
    };
  } finally {
    await cleanup();
    register(undefined);
  }
}

function holdCounts(h: HoldAudit, load: Load): HoldCounts {
  return {
    authorizations: h.authorizations,
    captures: h.captures,
    voids: h.voids,
    challenges: h.challenges,
    challengesCompleted: h.challengesCompleted,
    challengesFailed: h.challengesFailed,
    challengesAbandoned: h.challengesAbandoned,
    captureCalls: load.captureKeys.size,
    voidCalls: load.voidKeys.size,
  };
}
