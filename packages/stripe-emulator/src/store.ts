import { IdempotencyStore } from './idempotency';
import { nowSeconds, randomId } from './ids';
import type { RefundObject } from './refund-object';
import type { Challenge } from './three-d-secure';
import type {
  EmulatedPaymentIntent,
  EmulatedRefund,
  EventObject,
  PaymentIntentObject,
  StripeEvent,
} from './types';

export interface PaymentIntentRecord {
  /** Monotonic creation sequence: orders PaymentIntents created within the same second. */
  seq: number;
  pi: PaymentIntentObject;
  idempotencyKey: string | null;
  /** For a PI in `processing`: when (ms since epoch) it settles to its final outcome. */
  settleAt?: number;
  /** For a PI in `requires_capture`: when (ms since epoch) its authorization expires. */
  captureBefore?: number;
  /** Its 3D Secure challenges, oldest first (at most the last one is pending). */
  challenges?: Challenge[];
  /** The payment method whose authentication succeeded (manual confirmation charges it next). */
  authenticated?: string;
}

export interface RefundRecord {
  /** Monotonic creation sequence, as for PaymentIntents. */
  seq: number;
  refund: RefundObject;
  idempotencyKey: string | null;
  /** For a refund of a `pm_card_pendingRefund` / `pm_card_refundFail` charge: when it changes status. */
  settleAt?: number;
}

export interface EventRecord {
  seq: number;
  event: StripeEvent;
}

/** The request that caused an event (Stripe's `event.request`); null ids for asynchronous changes. */
export interface EventCause {
  id: string | null;
  idempotency_key: string | null;
}

/** The API version stamped on events: the one stripe-node 23.1.0 pins, so the SDK types match. */
export const DEFAULT_EVENT_API_VERSION = '2026-10-28.endive';

/** Callbacks the server wires in: webhook delivery, settle timers, persistence. */
export interface StateListeners {
  event(event: StripeEvent): void;
  processing(record: PaymentIntentRecord): void;
  /** A refund that will change status at `record.settleAt`. */
  refundSettling(record: RefundRecord): void;
  /** An authorization that expires at `record.captureBefore` unless captured or canceled first. */
  authorized(record: PaymentIntentRecord): void;
}

/** Stripe's window for capturing an online card authorization (Visa, customer-initiated). */
export const DEFAULT_AUTHORIZATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** All mutable emulator state. */
export class EmulatorState {
  latencyMs: number;
  /** How long a PaymentIntent stays `processing` (pm_card_visa_processing...) before it settles. */
  processingDelayMs = 1000;
  /** How long a test card's refund stays in its first status before it settles (see refunds.ts). */
  refundDelayMs = 1000;
  /** How long an authorization can be captured (see capture.ts). */
  authorizationTtlMs = DEFAULT_AUTHORIZATION_TTL_MS;
  /** Where the emulator listens ('http://127.0.0.1:<port>'): challenge URLs start with it. */
  baseUrl = '';
  eventApiVersion = DEFAULT_EVENT_API_VERSION;
  requests = 0;
  /** API keys rolled and expired (`expireApiKey`): refused with 401 `api_key_expired`. */
  readonly expiredKeys = new Set<string>();
  readonly idempotency = new IdempotencyStore();
  listeners: StateListeners = {
    event: () => {},
    processing: () => {},
    refundSettling: () => {},
    authorized: () => {},
  };
  private records: PaymentIntentRecord[] = [];
  private byId = new Map<string, PaymentIntentRecord>();
  private seq = 0;
  private refundRecords: RefundRecord[] = [];
  private refundsById = new Map<string, RefundRecord>();
  private refundSeq = 0;
  private eventRecords: EventRecord[] = [];
  private eventsById = new Map<string, EventRecord>();
  private eventSeq = 0;

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  /**
   * Records a Stripe event with a snapshot of its object and hands it to the webhook dispatcher.
   * `*.updated` events carry `previous_attributes`: the changed fields' earlier values.
   */
  emitEvent(
    type: string,
    object: EventObject,
    cause: EventCause,
    previousAttributes?: Record<string, unknown>,
  ): StripeEvent {
    const event: StripeEvent = {
      id: randomId('evt'),
      object: 'event',
      api_version: this.eventApiVersion,
      created: nowSeconds(),
      data:
        previousAttributes === undefined
          ? { object: structuredClone(object) }
          : { object: structuredClone(object), previous_attributes: structuredClone(previousAttributes) },
      livemode: false,
      pending_webhooks: 0,
      request: { ...cause },
      type,
    };
    this.addEvent(event);
    this.listeners.event(event);
    return event;
  }

  addEvent(event: StripeEvent): void {
    const record = { seq: ++this.eventSeq, event };
    this.eventRecords.push(record);
    this.eventsById.set(event.id, record);
  }

  getEvent(id: string): EventRecord | undefined {
    return this.eventsById.get(id);
  }

  /** Oldest first. */
  events(): readonly EventRecord[] {
    return this.eventRecords;
  }

  /** Restores a saved PaymentIntent record (persistence), keeping its sequence number. */
  restorePaymentIntent(record: PaymentIntentRecord): void {
    this.records.push(record);
    this.byId.set(record.pi.id, record);
    this.seq = Math.max(this.seq, record.seq);
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

  addRefund(refund: RefundObject, idempotencyKey: string | null): RefundRecord {
    const record: RefundRecord = { seq: ++this.refundSeq, refund, idempotencyKey };
    this.restoreRefund(record);
    return record;
  }

  /** Restores a saved refund record (persistence), keeping its sequence number. */
  restoreRefund(record: RefundRecord): void {
    this.refundRecords.push(record);
    this.refundsById.set(record.refund.id, record);
    this.refundSeq = Math.max(this.refundSeq, record.seq);
  }

  getRefund(id: string): RefundRecord | undefined {
    return this.refundsById.get(id);
  }

  /** Creation order (oldest first). */
  refunds(): readonly RefundRecord[] {
    return this.refundRecords;
  }

  /** The refunds of one PaymentIntent, creation order. */
  refundsOf(paymentIntentId: string): RefundObject[] {
    return this.refundRecords.filter((r) => r.refund.payment_intent === paymentIntentId).map((r) => r.refund);
  }

  reset(): void {
    this.records = [];
    this.byId.clear();
    this.refundRecords = [];
    this.refundsById.clear();
    this.idempotency.clear();
    this.eventRecords = [];
    this.eventsById.clear();
    this.requests = 0;
    this.expiredKeys.clear();
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
    capture_method: pi.capture_method,
    amount_capturable: pi.amount_capturable,
    amount_received: pi.amount_received,
    cancellation_reason: pi.cancellation_reason,
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

/** A detached ledger snapshot of a refund. */
export function toEmulatedRefund(record: RefundRecord): EmulatedRefund {
  const { refund } = record;
  return {
    id: refund.id,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    payment_intent: refund.payment_intent,
    charge: refund.charge,
    reason: refund.reason,
    failure_reason: refund.failure_reason ?? null,
    metadata: { ...refund.metadata },
    created: refund.created,
    idempotency_key: record.idempotencyKey,
  };
}

export const MAX_LATENCY_MS = 2_147_483_647;

/** Whether `ms` is usable as a latency (a non-negative finite number that fits a Node timer). */
export function isValidLatency(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_LATENCY_MS;
}
