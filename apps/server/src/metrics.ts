import type { PayHooks, PaymentGateway } from '@chargeonce/payments';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BuildInfo } from './build-info';

/**
 * Every metric the server exports, on a registry of its own (several servers can live in one test
 * process). Ours are prefixed `chargeonce_`; the default process metrics keep their standard names
 * (`process_*`, `nodejs_*`), which stock dashboards expect. README "Operations" says what to alert on.
 */
type Backlog = () => Promise<{ count: number; oldestAgeSeconds: number }>;

type OpenAuthorizations = () => Promise<{
  authorizations: number;
  oldestAgeSeconds: number;
  challenges: number;
}>;

export function createMetrics(
  options: {
    processingAttempts?: Backlog;
    pendingRefunds?: Backlog;
    openAuthorizations?: OpenAuthorizations;
    build?: BuildInfo;
  } = {},
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  if (options.build) {
    new Gauge({
      name: 'chargeonce_build_info',
      help: 'Always 1; the labels say which build this process runs (version, Node, commit).',
      labelNames: ['version', 'node', 'commit'] as const,
      registers,
    }).set({ ...options.build }, 1);
  }

  const payOutcomes = new Counter({
    name: 'chargeonce_pay_outcomes_total',
    help: 'orders.pay results by outcome (charged, already_paid, processing, declined, rejected).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const refundOutcomes = new Counter({
    name: 'chargeonce_refund_outcomes_total',
    help: 'orders.refund results by outcome (refunded, pending, failed, unavailable, refused, not_found).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const claimConflicts = new Counter({
    name: 'chargeonce_claim_conflicts_total',
    help: 'Claims that matched no row because another claim moved first.',
    registers,
  });
  const claimRetries = new Counter({
    name: 'chargeonce_claim_retries_total',
    help: 'Times a payer looked at an order again after a conflict (with backoff).',
    registers,
  });
  const stripeDuration = new Histogram({
    name: 'chargeonce_stripe_request_duration_seconds',
    help: 'Duration of calls to Stripe by operation and result.',
    labelNames: ['operation', 'result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const httpDuration = new Histogram({
    name: 'chargeonce_http_request_duration_seconds',
    help: 'HTTP request duration by tRPC procedure (or route) and status code.',
    labelNames: ['procedure', 'code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const recoveryPasses = new Counter({
    name: 'chargeonce_recovery_passes_total',
    help: 'Recovery worker passes by result (ok: ran to the end; failed: stopped by an error).',
    labelNames: ['result'] as const,
    registers,
  });
  // Both series from the start: an alert on `failed` has something to compare with before the first.
  for (const result of ['ok', 'failed']) recoveryPasses.inc({ result }, 0);
  const recoveryOutcomes = new Counter({
    name: 'chargeonce_recovery_outcomes_total',
    help: 'What recovery did with each leased row, by kind (attempt, refund, capture) and outcome.',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const webhookEvents = new Counter({
    name: 'chargeonce_webhook_events_total',
    help: 'Stripe webhook events by type and result (finalized, duplicate, bad_signature, ...).',
    labelNames: ['type', 'result'] as const,
    registers,
  });
  const idempotencyKeysReaped = new Counter({
    name: 'chargeonce_idempotency_keys_reaped_total',
    help: 'Idempotency keys removed by the reaper once past their retention.',
    registers,
  });
  const reconciliationFindings = new Gauge({
    name: 'chargeonce_reconciliation_findings',
    help: 'Findings of the last periodic reconciliation, by kind.',
    labelNames: ['kind'] as const,
    registers,
  });

  // Read at scrape time from the database: the truth across all instances, not this process's view.
  // One query serves both gauges of a backlog per scrape.
  const backlogGauges = (
    backlog: Backlog | undefined,
    names: { count: string; oldest: string },
    help: { count: string; oldest: string },
  ) => {
    let snapshot: ReturnType<Backlog> | undefined;
    const read = () => {
      snapshot ??= (backlog?.() ?? Promise.resolve({ count: 0, oldestAgeSeconds: 0 }))
        // A database outage must not take /metrics down with it (that is when it is needed most):
        // the gauges read NaN, which Prometheus shows as missing data, and everything else still scrapes.
        .catch(() => ({ count: Number.NaN, oldestAgeSeconds: Number.NaN }))
        .finally(() => {
          snapshot = undefined;
        });
      return snapshot;
    };
    new Gauge({
      name: names.count,
      help: help.count,
      registers,
      async collect() {
        this.set((await read()).count);
      },
    });
    new Gauge({
      name: names.oldest,
      help: help.oldest,
      registers,
      async collect() {
        this.set((await read()).oldestAgeSeconds);
      },
    });
  };
  backlogGauges(
    options.processingAttempts,
    { count: 'chargeonce_attempts_processing', oldest: 'chargeonce_attempt_processing_oldest_age_seconds' },
    {
      count: 'Payment attempts whose provider outcome is not known yet (all instances).',
      oldest: 'Age of the oldest attempt still processing; alert when it outgrows the recovery lease.',
    },
  );
  backlogGauges(
    options.pendingRefunds,
    { count: 'chargeonce_refunds_pending', oldest: 'chargeonce_refund_pending_oldest_age_seconds' },
    {
      count: 'Refunds reserved whose provider outcome is not final yet (all instances).',
      oldest:
        'Age of the oldest pending refund; alert when it outgrows the recovery grace plus a few passes.',
    },
  );

  const openAuthorizations = options.openAuthorizations;
  backlogGauges(
    openAuthorizations &&
      (async () => {
        const open = await openAuthorizations();
        return { count: open.authorizations, oldestAgeSeconds: open.oldestAgeSeconds };
      }),
    { count: 'chargeonce_authorizations_open', oldest: 'chargeonce_authorization_open_oldest_age_seconds' },
    {
      count: 'Authorizations holding funds, not captured or voided yet (all instances).',
      oldest:
        'Age of the oldest open authorization; alert well before the card network lets it lapse (7 days for Stripe cards).',
    },
  );
  new Gauge({
    name: 'chargeonce_challenges_open',
    help: 'Payments waiting for the customer to complete a 3-D Secure challenge (all instances).',
    registers,
    async collect() {
      // As for the backlogs: NaN (missing data) while the database cannot say.
      this.set(
        openAuthorizations
          ? await openAuthorizations().then(
              (o) => o.challenges,
              () => Number.NaN,
            )
          : 0,
      );
    },
  });

  const payHooks: PayHooks = {
    claimConflict: () => claimConflicts.inc(),
    retry: () => claimRetries.inc(),
    outcome: (outcome) => payOutcomes.inc({ outcome }),
    refundOutcome: (outcome) => refundOutcomes.inc({ outcome }),
  };

  /** Times a provider call by operation and result kind. */
  const timed = async <R>(
    operation: string,
    call: () => Promise<R>,
    kindOf: (result: R) => string = (r) => (r as { kind: string }).kind,
  ): Promise<R> => {
    const end = stripeDuration.startTimer({ operation });
    let result: R | undefined;
    try {
      result = await call();
      return result;
    } finally {
      end({ result: result === undefined ? 'error' : kindOf(result) });
    }
  };
  /** Wraps a gateway so every provider call is timed by result kind. */
  const instrumentGateway = (gateway: PaymentGateway): PaymentGateway => ({
    charge: (request) => timed('payment_intents.create', () => gateway.charge(request)),
    retrieve: (id) => timed('payment_intents.retrieve', () => gateway.retrieve(id)),
    findByAttempt: (id, options) => timed('payment_intents.lookup', () => gateway.findByAttempt(id, options)),
    listPaymentIntents: (window) => gateway.listPaymentIntents(window),
    capture: (request) => timed('payment_intents.capture', () => gateway.capture(request)),
    cancel: (request) => timed('payment_intents.cancel', () => gateway.cancel(request)),
    refund: (request) => timed('refunds.create', () => gateway.refund(request)),
    retrieveRefund: (id) => timed('refunds.retrieve', () => gateway.retrieveRefund(id)),
    listRefunds: (paymentIntentId) =>
      timed(
        'refunds.list',
        () => gateway.listRefunds(paymentIntentId),
        (listed) => (Array.isArray(listed) ? 'listed' : listed.kind),
      ),
  });

  return {
    registry,
    payHooks,
    instrumentGateway,
    observeHttp: (procedure: string, code: number, seconds: number) =>
      httpDuration.observe({ procedure, code: String(code) }, seconds),
    recoveryPasses,
    recoveryOutcomes,
    webhookEvents,
    reconciliationFindings,
    idempotencyKeysReaped,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
