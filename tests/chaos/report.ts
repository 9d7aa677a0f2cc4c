import type { Violations } from './invariants';
import type { ScenarioResult } from './runner';

/** The `--json` line: exactly these keys, in this order. */
export interface Summary extends Violations {
  runs: number;
  seed: number;
  kills: number;
  faults: number;
  orders: number;
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
    paid: 0,
    provider_succeeded: 0,
    duplicates: 0,
    lost: 0,
    stuck: 0,
    mismatches: 0,
  };
}

export function add(summary: Summary, r: ScenarioResult): void {
  const v = r.audit.violations;
  summary.runs++;
  summary.kills += r.kills;
  summary.faults += r.faults;
  summary.orders += r.orders;
  summary.paid += r.audit.paid;
  summary.provider_succeeded += r.audit.providerSucceeded;
  summary.duplicates += v.duplicates;
  summary.lost += v.lost;
  summary.stuck += v.stuck;
  summary.mismatches += v.mismatches;
}

export const violationCount = (v: Violations) => v.duplicates + v.lost + v.stuck + v.mismatches;

export function toJsonLine(s: Summary): string {
  return JSON.stringify({
    runs: s.runs,
    seed: s.seed,
    kills: s.kills,
    faults: s.faults,
    orders: s.orders,
    paid: s.paid,
    provider_succeeded: s.provider_succeeded,
    duplicates: s.duplicates,
    lost: s.lost,
    stuck: s.stuck,
    mismatches: s.mismatches,
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
    `faults=${r.faults} pruned=${r.pruned} settled=${r.settled} ` +
    `duplicates=${v.duplicates} lost=${v.lost} stuck=${v.stuck} mismatches=${v.mismatches} | ${answers}`
  );
}
