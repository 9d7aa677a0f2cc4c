import { noViolations, type Violations } from './invariants';
import type { ScenarioResult } from './runner';

/** The `--json` line: exactly these keys, in this order. */
export interface Summary extends Violations {
  runs: number;
  seed: number;
  kills: number;
  faults: number;
  orders: number;
  creates: number;
  dropped: number;
  paid: number;
  provider_succeeded: number;
  refunds: number;
  refunds_succeeded: number;
  provider_refunded: number;
  cancels: number;
  canceled: number;
  authorizations: number;
  capture_calls: number;
  void_calls: number;
  captures: number;
  voids: number;
  challenges: number;
  challenges_completed: number;
  challenges_failed: number;
  challenges_abandoned: number;
}

export function emptySummary(seed: number): Summary {
  return {
    runs: 0,
    seed,
    kills: 0,
    faults: 0,
    orders: 0,
    creates: 0,
    dropped: 0,
    paid: 0,
    provider_succeeded: 0,
    refunds: 0,
    refunds_succeeded: 0,
    provider_refunded: 0,
    cancels: 0,
    canceled: 0,
    authorizations: 0,
    capture_calls: 0,
    void_calls: 0,
    captures: 0,
    voids: 0,
    challenges: 0,
    challenges_completed: 0,
    challenges_failed: 0,
    challenges_abandoned: 0,
    ...noViolations(),
  };
}

export function add(summary: Summary, r: ScenarioResult): void {
  const v = r.audit.violations;
  summary.runs++;
  summary.kills += r.kills;
  summary.faults += r.faults;
  summary.orders += r.orders;
  summary.creates += r.creates;
  summary.dropped += r.dropped;
  summary.paid += r.audit.paid;
  summary.provider_succeeded += r.audit.providerSucceeded;
  summary.refunds += r.refunds;
  summary.refunds_succeeded += r.refundsSucceeded;
  summary.provider_refunded += r.providerRefunded;
  summary.cancels += r.cancels;
  summary.canceled += r.canceled;
  const h = r.holds;
  summary.authorizations += h.authorizations;
  summary.capture_calls += h.captureCalls;
  summary.void_calls += h.voidCalls;
  summary.captures += h.captures;
  summary.voids += h.voids;
  summary.challenges += h.challenges;
  summary.challenges_completed += h.challengesCompleted;
  summary.challenges_failed += h.challengesFailed;
  summary.challenges_abandoned += h.challengesAbandoned;
  for (const kind of Object.keys(v) as (keyof Violations)[]) summary[kind] += v[kind];
}

/** Every kind counts: any one of them fails the run. */
export const violationCount = (v: Violations) => Object.values(v).reduce((n, k) => n + k, 0);

export function toJsonLine(s: Summary): string {
  return JSON.stringify({
    runs: s.runs,
    seed: s.seed,
    kills: s.kills,
    faults: s.faults,
    orders: s.orders,
    creates: s.creates,
    dropped: s.dropped,
    paid: s.paid,
    provider_succeeded: s.provider_succeeded,
    duplicates: s.duplicates,
    lost: s.lost,
    stuck: s.stuck,
    mismatches: s.mismatches,
    duplicate_orders: s.duplicateOrders,
    lost_orders: s.lostOrders,
    refunds: s.refunds,
    refunds_succeeded: s.refunds_succeeded,
    provider_refunded: s.provider_refunded,
    over_refunds: s.overRefunds,
    refunds_stuck: s.refundsStuck,
    cancels: s.cancels,
    canceled: s.canceled,
    charged_canceled: s.chargedCanceled,
    authorizations: s.authorizations,
    capture_calls: s.capture_calls,
    void_calls: s.void_calls,
    captures: s.captures,
    voids: s.voids,
    over_captures: s.overCaptures,
    captured_and_voided: s.capturedAndVoided,
    charge_mismatches: s.chargeMismatches,
    stuck_authorizations: s.stuckAuthorizations,
    challenges: s.challenges,
    challenges_completed: s.challenges_completed,
    challenges_failed: s.challenges_failed,
    challenges_abandoned: s.challenges_abandoned,
    open_challenges: s.openChallenges,
  });
}

/** One line per scenario. */
export function scenarioLine(index: number, seed: number, r: ScenarioResult, ms: number): string {
  const v = r.audit.violations;
  const answers = Object.entries(r.tally)
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  return (
    `#${index + 1} seed=${seed} ${violationCount(v) === 0 ? 'ok' : 'VIOLATION'} in ${(ms / 1000).toFixed(1)}s: ` +
    `orders=${r.orders} paid=${r.audit.paid} provider_succeeded=${r.audit.providerSucceeded} kills=${r.kills} ` +
    `faults=${r.faults} creates=${r.creates} dropped=${r.dropped} pruned=${r.pruned} settled=${r.settled} ` +
    `duplicates=${v.duplicates} lost=${v.lost} stuck=${v.stuck} mismatches=${v.mismatches} ` +
    `duplicate_orders=${v.duplicateOrders} lost_orders=${v.lostOrders} refunds=${r.refunds} ` +
    `refunds_succeeded=${r.refundsSucceeded} provider_refunded=${r.providerRefunded} ` +
    `over_refunds=${v.overRefunds} refunds_stuck=${v.refundsStuck} cancels=${r.cancels} canceled=${r.canceled} ` +
    `charged_canceled=${v.chargedCanceled} ${holdLine(r)} | ${answers}`
  );
}

/** The holds' and challenges' part of a scenario's line. */
function holdLine(r: ScenarioResult): string {
  const { holds: h, audit } = r;
  const v = audit.violations;
  return (
    `authorizations=${h.authorizations} capture_calls=${h.captureCalls} void_calls=${h.voidCalls} ` +
    `captures=${h.captures} voids=${h.voids} over_captures=${v.overCaptures} ` +
    `captured_and_voided=${v.capturedAndVoided} charge_mismatches=${v.chargeMismatches} ` +
    `stuck_authorizations=${v.stuckAuthorizations} challenges=${h.challenges} ` +
    `completed=${h.challengesCompleted} failed=${h.challengesFailed} abandoned=${h.challengesAbandoned} ` +
    `open_challenges=${v.openChallenges}`
  );
}
