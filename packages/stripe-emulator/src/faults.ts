import { createRandom, type Random } from './prng';

/**
 * Fault injection. A plan is an ordered list of rules; each API request is offered to the rules in
 * order and the first one that fires is applied (at most one fault per request). Everything is
 * decided synchronously when the request arrives, so concurrent requests cannot both slip past a
 * `times` limit, and with the same seed and request sequence the same requests get the same faults.
 */
export const FAULT_KINDS = [
  'error_before',
  'error_after',
  'reset_after',
  'hang',
  'latency',
  'in_use_409',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  fault: FaultKind;
  /** e.g. 'payment_intents.create'; a list; or '*' / omitted for any operation. */
  operation?: string | string[];
  /** Fire only on the Nth (1-based) request this rule could apply to; or a list of Ns. */
  nth?: number | number[];
  /** Chance (0..1, default 1) of firing, drawn from the plan's seeded PRNG. */
  probability?: number;
  /** Only requests whose Idempotency-Key starts with this. */
  idempotencyKeyPrefix?: string;
  /** Only requests whose `metadata[k]` parameters include all these pairs. */
  metadata?: Record<string, string>;
  /** Fire at most this many times (default unlimited). */
  times?: number;
  /** error_before / error_after: 500 (default), 502 or 503. */
  status?: 500 | 502 | 503;
  /** latency: required extra delay. hang: hold time; omitted = until the client disconnects. */
  ms?: number;
}

export interface FaultPlan {
  /** PRNG seed for `probability`; default: the emulator's seed. */
  seed?: number;
  rules: FaultRule[];
}

/** What the API layer needs to know about a request to decide on a fault. */
export interface FaultRequest {
  operation: string;
  idempotencyKey: string | null;
  metadata: Record<string, string>;
  /** False when the request would be an idempotent replay / conflict rather than execute. */
  executes: boolean;
}

export interface AppliedFault {
  rule: number;
  fault: FaultKind;
  status: 500 | 502 | 503;
  ms: number | null;
  operation: string;
  idempotencyKey: string | null;
  at: number;
}

export interface FaultStatus {
  plan: FaultPlan | null;
  seed: number;
  /** Total faults applied since start / reset (not reset by setFaults, so harnesses can sum). */
  applied: number;
  rules: { seen: number; applied: number }[];
  /** The most recent applications (at most 1000), oldest first. */
  log: AppliedFault[];
}

const LOG_LIMIT = 1000;

export class FaultEngine {
  private plan: FaultPlan | null = null;
  private counters: { seen: number; applied: number }[] = [];
  private random: Random;
  private total = 0;
  private log: AppliedFault[] = [];

  constructor(private readonly defaultSeed: number) {
    this.random = createRandom(defaultSeed, 'faults');
  }

  /** Replaces the plan and rewinds its counters and PRNG. */
  set(plan: FaultPlan | null): void {
    this.plan = plan;
    this.rewind();
  }

  /** Counters and PRNG back to the start of the plan (the plan itself is kept). */
  rewind(): void {
    this.counters = (this.plan?.rules ?? []).map(() => ({ seen: 0, applied: 0 }));
    this.random = createRandom(this.plan?.seed ?? this.defaultSeed, 'faults');
  }

  resetCounters(): void {
    this.rewind();
    this.total = 0;
    this.log = [];
  }

  /**
   * Every rule whose filters match counts the request (so `nth` is "the Nth request this rule could
   * apply to", whatever other rules do); the first one whose nth / times / probability gates pass
   * fires. Rules after it only count: no PRNG draw is spent on them.
   */
  decide(req: FaultRequest): AppliedFault | null {
    let fired: AppliedFault | null = null;
    for (const [index, rule] of (this.plan?.rules ?? []).entries()) {
      const counter = this.counters[index];
      if (!counter || !applicable(rule, req)) continue;
      counter.seen++;
      if (fired) continue;
      if (rule.nth !== undefined && !asList(rule.nth).includes(counter.seen)) continue;
      if (rule.times !== undefined && counter.applied >= rule.times) continue;
      if (rule.probability !== undefined && rule.probability < 1 && !(this.random() < rule.probability))
        continue;
      counter.applied++;
      this.total++;
      fired = {
        rule: index,
        fault: rule.fault,
        status: rule.status ?? 500,
        ms: rule.ms ?? null,
        operation: req.operation,
        idempotencyKey: req.idempotencyKey,
        at: Date.now(),
      };
      this.log.push(fired);
      if (this.log.length > LOG_LIMIT) this.log.shift();
    }
    return fired;
  }

  applied(): number {
    return this.total;
  }

  status(): FaultStatus {
    return {
      plan: this.plan === null ? null : structuredClone(this.plan),
      seed: this.plan?.seed ?? this.defaultSeed,
      applied: this.total,
      rules: this.counters.map((c) => ({ ...c })),
      log: this.log.map((entry) => ({ ...entry })),
    };
  }
}

function applicable(rule: FaultRule, req: FaultRequest): boolean {
  const ops = rule.operation === undefined ? ['*'] : asList(rule.operation);
  if (!ops.includes('*') && !ops.includes(req.operation)) return false;
  if (rule.idempotencyKeyPrefix !== undefined) {
    if (req.idempotencyKey === null || !req.idempotencyKey.startsWith(rule.idempotencyKeyPrefix))
      return false;
  }
  for (const [key, value] of Object.entries(rule.metadata ?? {})) {
    if (!Object.hasOwn(req.metadata, key) || req.metadata[key] !== value) return false;
  }
  // A 5xx "after executing" only makes sense for a request that executes (a replay answers what was
  // stored), and a simulated key conflict only for a request that carries a key. reset_after applies
  // to replays too: stripe-node retries a closed connection once, even with retries off, and that
  // retry is a replay; losing it as well is how a client ends up not knowing the outcome.
  if (rule.fault === 'error_after' && !req.executes) return false;
  if (rule.fault === 'in_use_409' && req.idempotencyKey === null) return false;
  return true;
}

function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

export class FaultPlanError extends Error {}

/** Validates an untrusted plan (admin JSON, CLI, options); accepts a bare rule array too. */
export function parseFaultPlan(input: unknown): FaultPlan {
  const raw = Array.isArray(input) ? { rules: input } : input;
  if (!isObject(raw) || !Array.isArray(raw.rules)) throw new FaultPlanError('Expected {"rules": [...]}.');
  const seed = raw.seed;
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new FaultPlanError('seed must be an integer.');
  const rules = raw.rules.map((rule, i) => parseRule(rule, `rules[${i}]`));
  return seed === undefined ? { rules } : { seed: seed as number, rules };
}

function parseRule(input: unknown, where: string): FaultRule {
  if (!isObject(input)) throw new FaultPlanError(`${where} must be an object.`);
  const bad = (what: string): never => {
    throw new FaultPlanError(`${where}.${what}`);
  };
  const known = new Set([
    'fault',
    'operation',
    'nth',
    'probability',
    'idempotencyKeyPrefix',
    'metadata',
    'times',
    'status',
    'ms',
  ]);
  for (const key of Object.keys(input)) if (!known.has(key)) bad(`${key} is not a known rule field.`);
  const { fault, operation, nth, probability, idempotencyKeyPrefix, metadata, times, status, ms } = input;
  if (!(FAULT_KINDS as readonly unknown[]).includes(fault))
    bad(`fault must be one of ${FAULT_KINDS.join(', ')}.`);
  const rule: FaultRule = { fault: fault as FaultKind };
  if (operation !== undefined) {
    if (!asList(operation).every((op) => typeof op === 'string')) bad('operation must be a string or list.');
    rule.operation = operation as string | string[];
  }
  if (nth !== undefined) {
    if (!asList(nth).every((n) => Number.isSafeInteger(n) && (n as number) >= 1))
      bad('nth must be a positive integer or list.');
    rule.nth = nth as number | number[];
  }
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))
      bad('probability must be between 0 and 1.');
    rule.probability = probability as number;
  }
  if (idempotencyKeyPrefix !== undefined) {
    if (typeof idempotencyKeyPrefix !== 'string') bad('idempotencyKeyPrefix must be a string.');
    rule.idempotencyKeyPrefix = idempotencyKeyPrefix as string;
  }
  if (metadata !== undefined) {
    if (!isObject(metadata) || !Object.values(metadata).every((v) => typeof v === 'string'))
      bad('metadata must map strings to strings.');
    rule.metadata = { ...(metadata as Record<string, string>) };
  }
  if (times !== undefined) {
    if (!Number.isSafeInteger(times) || (times as number) < 0) bad('times must be a non-negative integer.');
    rule.times = times as number;
  }
  if (status !== undefined) {
    if (status !== 500 && status !== 502 && status !== 503) bad('status must be 500, 502 or 503.');
    rule.status = status as 500 | 502 | 503;
  }
  if (ms !== undefined) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 2_147_483_647)
      bad('ms must be a non-negative number of milliseconds.');
    rule.ms = ms as number;
  }
  if (rule.fault === 'latency' && rule.ms === undefined) bad('ms is required for latency.');
  return rule;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
