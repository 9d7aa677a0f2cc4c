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
  /** Every answer callers got, the 503s among them and those that were DATABASE_UNAVAILABLE, pays told processing. */
  answers: number;
  answers_503: number;
  answers_db_unavailable: number;
  told_processing: number;
  /** --db-faults: faults applied (crash-restarts, postmaster kills, connections dropped), time down. */
  db_faults: number;
  db_restarts: number;
  db_kills: number;
  db_terminations: number;
  db_down_ms: number;
  ready_503: number;
  ready_timeouts: number;
  ready_flaps: number;
  server_starts_refused: number;
  webhook_answers_500: number;
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
    answers: 0,
    answers_503: 0,
    answers_db_unavailable: 0,
    told_processing: 0,
    db_faults: 0,
    db_restarts: 0,
    db_kills: 0,
    db_terminations: 0,
    db_down_ms: 0,
    ready_503: 0,
    ready_timeouts: 0,
    ready_flaps: 0,
    server_starts_refused: 0,
    webhook_answers_500: 0,
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
  addCallers(summary, r);
  for (const kind of Object.keys(v) as (keyof Violations)[]) summary[kind] += v[kind];
}

function addCallers(summary: Summary, r: ScenarioResult): void {
  const { callers: c, db } = r;
  summary.answers += c.answers;
  summary.answers_503 += c.answers503;
  summary.answers_db_unavailable += c.databaseUnavailable;
  summary.told_processing += c.processing;
  summary.db_faults += db.faults;
  summary.db_restarts += db.restarts;
  summary.db_kills += db.kills;
  summary.db_terminations += db.terminations;
  summary.db_down_ms += db.downMs;
  summary.ready_503 += db.ready503;
  summary.ready_timeouts += db.readyTimeouts;
  summary.ready_flaps += db.readyFlaps;
  summary.server_starts_refused += r.startsRefused;
  summary.webhook_answers_500 += r.webhook500;
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
    answers: s.answers,
    answers_500: s.answers500,
    untyped_errors: s.untypedErrors,
    answers_503: s.answers_503,
    answers_db_unavailable: s.answers_db_unavailable,
    told_processing: s.told_processing,
    false_failures: s.falseFailures,
    servers_exited: s.serversExited,
    server_starts_refused: s.server_starts_refused,
    webhook_answers_500: s.webhook_answers_500,
    db_faults: s.db_faults,
    db_restarts: s.db_restarts,
    db_kills: s.db_kills,
    db_terminations: s.db_terminations,
    db_down_ms: s.db_down_ms,
    ready_503: s.ready_503,
    ready_timeouts: s.ready_timeouts,
    ready_flaps: s.ready_flaps,
    ready_missed: s.readinessMissed,
    not_ready: s.notReady,
  });
}

/** One line per scenario. */
export function scenarioLine(index: number, seed: number, r: ScenarioResult, ms: number): string {
  const v = r.audit.violations;
  const answers = Object.entries(r.tally)
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  const errors = Object.entries(r.callers.errors)
    .sort()
    .map(([k, n]) => `${k.replaceAll(' ', ':')}=${n}`)
    .join(' ');
  return (
    `#${index + 1} seed=${seed} ${violationCount(v) === 0 ? 'ok' : 'VIOLATION'} in ${(ms / 1000).toFixed(1)}s: ` +
    `orders=${r.orders} paid=${r.audit.paid} provider_succeeded=${r.audit.providerSucceeded} kills=${r.kills} ` +
    `faults=${r.faults} creates=${r.creates} dropped=${r.dropped} pruned=${r.pruned} settled=${r.settled} ` +
    `duplicates=${v.duplicates} lost=${v.lost} stuck=${v.stuck} mismatches=${v.mismatches} ` +
    `duplicate_orders=${v.duplicateOrders} lost_orders=${v.lostOrders} refunds=${r.refunds} ` +
    `refunds_succeeded=${r.refundsSucceeded} provider_refunded=${r.providerRefunded} ` +
    `over_refunds=${v.overRefunds} refunds_stuck=${v.refundsStuck} cancels=${r.cancels} canceled=${r.canceled} ` +
    `charged_canceled=${v.chargedCanceled} ${holdLine(r)} ${callerLine(r)} | ${answers} | answered ${errors}`
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

/** The callers' and the database faults' part of a scenario's line. */
export function callerLine(r: ScenarioResult): string {
  const { callers: c, db, audit } = r;
  const v = audit.violations;
  return (
    `answers=${c.answers} answers_500=${v.answers500} untyped_errors=${v.untypedErrors} ` +
    `answers_503=${c.answers503} db_unavailable=${c.databaseUnavailable} processing=${c.processing} ` +
    `false_failures=${v.falseFailures} servers_exited=${v.serversExited} starts_refused=${r.startsRefused} ` +
    `webhook_500=${r.webhook500} db_faults=${db.faults} down_ms=${db.downMs} ready_503=${db.ready503} ready_timeouts=${db.readyTimeouts} ` +
    `ready_flaps=${db.readyFlaps} ready_missed=${v.readinessMissed} not_ready=${v.notReady}`
  );
}
