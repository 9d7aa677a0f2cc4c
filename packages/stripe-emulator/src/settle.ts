import { settleProcessing } from './charge';
import type { EmulatorState, PaymentIntentRecord } from './store';

/**
 * Timers that move `processing` PaymentIntents to their final state. The due time lives on the record
 * (`settleAt`) so it is persisted: after a restart, `resume()` re-arms what had not settled yet.
 */
export class Settler {
  private timers = new Map<PaymentIntentRecord, NodeJS.Timeout>();

  constructor(
    private readonly state: EmulatorState,
    /** Called after a PaymentIntent settled (persist, re-check webhook drain waiters). */
    private readonly onSettled: () => void,
  ) {}

  schedule(record: PaymentIntentRecord): void {
    if (record.settleAt === undefined) return;
    const existing = this.timers.get(record);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(
      () => {
        this.timers.delete(record);
        settleProcessing(this.state, record);
        this.onSettled();
      },
      Math.max(0, record.settleAt - Date.now()),
    );
    this.timers.set(record, timer);
  }

  /** Re-arms every PaymentIntent still waiting to settle (after loading a state file). */
  resume(): void {
    for (const record of this.state.paymentIntents()) {
      if (record.pi.status === 'processing') this.schedule(record);
    }
  }

  pending(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
