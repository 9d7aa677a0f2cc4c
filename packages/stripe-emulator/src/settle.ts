import { expireAuthorization } from './capture';
import { settleProcessing } from './charge';
import { settleRefund } from './refunds';
import type { EmulatorState, PaymentIntentRecord, RefundRecord } from './store';

/**
 * Timers that move `processing` PaymentIntents, and refunds of the refund test cards, to their final
 * state, and that expire uncaptured authorizations. The due time lives on the record (`settleAt`,
 * `captureBefore`) so it is persisted: after a restart, `resume()` re-arms what is still due.
 */
export class Settler {
  private timers = new Map<PaymentIntentRecord | RefundRecord, NodeJS.Timeout>();
  // Kept apart: `pending()` counts only settling (drainWebhooks waits for it), never a 7-day expiry.
  private expiries = new Map<PaymentIntentRecord, NodeJS.Timeout>();

  constructor(
    private readonly state: EmulatorState,
    /** Called after a record settled or expired (persist, re-check webhook drain waiters). */
    private readonly onSettled: () => void,
  ) {}

  schedule(record: PaymentIntentRecord): void {
    this.arm(this.timers, record, record.settleAt, () => settleProcessing(this.state, record));
  }

  scheduleRefund(record: RefundRecord): void {
    this.arm(this.timers, record, record.settleAt, () => settleRefund(this.state, record));
  }

  /** An authorization's expiry (a capture or cancel before then makes it a no-op). */
  scheduleExpiry(record: PaymentIntentRecord): void {
    this.arm(this.expiries, record, record.captureBefore, () => expireAuthorization(this.state, record));
  }

  /** Re-arms everything still waiting to settle or expire (after loading a state file). */
  resume(): void {
    for (const record of this.state.paymentIntents()) {
      if (record.pi.status === 'processing') this.schedule(record);
      if (record.pi.status === 'requires_capture') this.scheduleExpiry(record);
    }
    for (const record of this.state.refunds()) this.scheduleRefund(record);
  }

  pending(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const timer of [...this.timers.values(), ...this.expiries.values()]) clearTimeout(timer);
    this.timers.clear();
    this.expiries.clear();
  }

  private arm<K extends PaymentIntentRecord | RefundRecord>(
    timers: Map<K, NodeJS.Timeout>,
    record: K,
    dueAt: number | undefined,
    settle: () => void,
  ): void {
    if (dueAt === undefined) return;
    const existing = timers.get(record);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(
      () => {
        timers.delete(record);
        settle();
        this.onSettled();
      },
      Math.max(0, dueAt - Date.now()),
    );
    timers.set(record, timer);
  }
}
