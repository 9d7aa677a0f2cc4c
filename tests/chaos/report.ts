import type { Violations } from './invariants';
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
    duplicates: 0,
    lost: 0,
    stuck: 0,
    mismatches: 0,
    duplicateOrders: 0,
    lostOrders: 0,
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
  summary.duplicates += v.duplicates;
  summary.lost += v.lost;
  summary.stuck += v.stuck;
  summary.mismatches += v.mismatches;
  summary.duplicateOrders += v.duplicateOrders;
  summary.lostOrders += v.lostOrders;
}

export const violationCount = (v: Violations) =>
  v.duplicates + v.lost + v.stuck + v.mismatches + v.duplicateOrders + v.lostOrders;

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
    `duplicate_orders=${v.duplicateOrders} lost_orders=${v.lostOrders} | ${answers}`
  );
}
