import { settleProcessing } from './charge';
import { settleRefund } from './refunds';
import type { EmulatorState, PaymentIntentRecord, RefundRecord } from './store';

/**
 * Timers that move `processing` PaymentIntents, and refunds of the refund test cards, to their final
 * state. The due time lives on the record (`settleAt`) so it is persisted: after a restart,
 * `resume()` re-arms what had not settled yet.
 */
export class Settler {
  private timers = new Map<PaymentIntentRecord | RefundRecord, NodeJS.Timeout>();

  constructor(
    private readonly state: EmulatorState,
    /** Called after a record settled (persist, re-check webhook drain waiters). */
    private readonly onSettled: () => void,
  ) {}

  schedule(record: PaymentIntentRecord): void {
    this.arm(record, () => settleProcessing(this.state, record));
  }

  scheduleRefund(record: RefundRecord): void {
    this.arm(record, () => settleRefund(this.state, record));
  }

  /** Re-arms everything still waiting to settle (after loading a state file). */
  resume(): void {
    for (const record of this.state.paymentIntents()) {
      if (record.pi.status === 'processing') this.schedule(record);
    }
    for (const record of this.state.refunds()) this.scheduleRefund(record);
  }

  pending(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(record: PaymentIntentRecord | RefundRecord, settle: () => void): void {
    if (record.settleAt === undefined) return;
    const existing = this.timers.get(record);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(
      () => {
        this.timers.delete(record);
        settle();
        this.onSettled();
      },
      Math.max(0, record.settleAt - Date.now()),
    );
    this.timers.set(record, timer);
  }
}
