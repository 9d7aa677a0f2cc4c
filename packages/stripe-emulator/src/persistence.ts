import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SavedIdempotencyEntry } from './idempotency';
import { withCurrentFields } from './payment-intent-object';
import type { EmulatorState, PaymentIntentRecord, RefundRecord } from './store';
import type { StripeEvent } from './types';
import type { SavedWebhooks } from './webhooks';

const FORMAT_VERSION = 1;

/** The state file's JSON. */
interface StateFile {
  version: typeof FORMAT_VERSION;
  savedAt: number;
  paymentIntents: PaymentIntentRecord[];
  /** Absent from files written before the emulator had refunds. */
  refunds?: RefundRecord[];
  idempotency: SavedIdempotencyEntry[];
  events: StripeEvent[];
  webhooks: SavedWebhooks;
}

export class StateFileError extends Error {}

/**
 * Persists emulator state to one JSON file. Each write goes to a temp file that is then renamed over
 * the target, so a reader (or a restart after SIGKILL) sees either the old or the new state, never a
 * torn one. Not fsynced: it survives the process dying, not the machine losing power.
 *
 * `saveNow()` runs before a mutating API response is sent, so whatever a client was told (or lost
 * the answer to) is on disk first; background changes (webhook queue, settling) use `saveSoon()`,
 * which coalesces writes.
 */
export class Persistence {
  private timer: NodeJS.Timeout | null = null;
  private readonly tmp: string;

  constructor(
    readonly path: string,
    private readonly snapshot: () => StateFile,
  ) {
    this.tmp = `${path}.${process.pid}.tmp`;
  }

  saveNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.tmp, JSON.stringify(this.snapshot()));
    renameSync(this.tmp, this.path);
  }

  saveSoon(delayMs = 20): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.saveNow();
    }, delayMs);
  }

  /** Flushes a pending coalesced write (on close). */
  flush(): void {
    if (this.timer) this.saveNow();
  }

  discardTemp(): void {
    rmSync(this.tmp, { force: true });
  }
}

export function snapshotState(state: EmulatorState, webhooks: SavedWebhooks): StateFile {
  return {
    version: FORMAT_VERSION,
    savedAt: Date.now(),
    paymentIntents: [...state.paymentIntents()],
    refunds: [...state.refunds()],
    idempotency: state.idempotency.save(),
    events: state.events().map((r) => r.event),
    webhooks,
  };
}

/** Reads a state file; null when it does not exist yet. A corrupt file stops the start (never silently empty). */
export function readStateFile(path: string): StateFile | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StateFileError(
      `cannot read state file ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const file = parsed as Partial<StateFile> | null;
  if (
    !file ||
    file.version !== FORMAT_VERSION ||
    !Array.isArray(file.paymentIntents) ||
    (file.refunds !== undefined && !Array.isArray(file.refunds)) ||
    !Array.isArray(file.idempotency) ||
    !Array.isArray(file.events) ||
    !file.webhooks ||
    !Array.isArray(file.webhooks.jobs)
  ) {
    throw new StateFileError(`state file ${path} is not an emulator state file (version ${FORMAT_VERSION}).`);
  }
  return file as StateFile;
}

/** Loads PaymentIntents, refunds, idempotency keys and events into a fresh state; webhooks are the caller's. */
export function restoreState(state: EmulatorState, file: StateFile): void {
  for (const record of file.paymentIntents) {
    state.restorePaymentIntent({ ...record, pi: withCurrentFields(record.pi) });
  }
  for (const record of file.refunds ?? []) state.restoreRefund(record);
  state.idempotency.load(file.idempotency);
  for (const event of file.events) state.addEvent(event);
}
