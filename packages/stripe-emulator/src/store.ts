import { IdempotencyStore } from './idempotency';
import type { EmulatedPaymentIntent, PaymentIntentObject } from './types';

export interface PaymentIntentRecord {
  /** Monotonic creation sequence: orders PaymentIntents created within the same second. */
  seq: number;
  pi: PaymentIntentObject;
  idempotencyKey: string | null;
}

/** All mutable emulator state. */
export class EmulatorState {
  latencyMs: number;
  requests = 0;
  readonly idempotency = new IdempotencyStore();
  private records: PaymentIntentRecord[] = [];
  private byId = new Map<string, PaymentIntentRecord>();
  private seq = 0;

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  addPaymentIntent(pi: PaymentIntentObject, idempotencyKey: string | null): PaymentIntentRecord {
    const record: PaymentIntentRecord = { seq: ++this.seq, pi, idempotencyKey };
    this.records.push(record);
    this.byId.set(pi.id, record);
    return record;
  }

  getPaymentIntent(id: string): PaymentIntentRecord | undefined {
    return this.byId.get(id);
  }

  /** Creation order (oldest first). */
  paymentIntents(): readonly PaymentIntentRecord[] {
    return this.records;
  }

  reset(): void {
    this.records = [];
    this.byId.clear();
    this.idempotency.clear();
    this.requests = 0;
  }
}

/** A detached ledger snapshot of a PaymentIntent. */
export function toEmulated(record: PaymentIntentRecord): EmulatedPaymentIntent {
  const { pi } = record;
  const error = pi.last_payment_error;
  return {
    id: pi.id,
    amount: pi.amount,
    currency: pi.currency,
    status: pi.status,
    payment_method: pi.payment_method,
    metadata: { ...pi.metadata },
    created: pi.created,
    idempotency_key: record.idempotencyKey,
    last_payment_error: error
      ? {
          code: error.code,
          ...(error.decline_code !== undefined ? { decline_code: error.decline_code } : {}),
          message: error.message,
        }
      : null,
  };
}

export const MAX_LATENCY_MS = 2_147_483_647;

/** Whether `ms` is usable as a latency (a non-negative finite number that fits a Node timer). */
export function isValidLatency(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_LATENCY_MS;
}
