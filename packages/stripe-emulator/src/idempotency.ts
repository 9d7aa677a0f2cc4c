/**
 * Stripe's v1 idempotency: the first POST with a given (secret key, Idempotency-Key) reserves the key;
 * once it has executed, its status code and body are stored and replayed to every later request with the
 * same key and the same method, path and parameters. A later request with different parameters gets an
 * `idempotency_error` (400); one arriving while the first is still executing gets 409
 * `idempotency_key_in_use`. Requests rejected before executing (validation) release the key unstored.
 */

export interface StoredResponse {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse | null; // null while the first request is executing
}

export type IdempotencyLookup =
  | { kind: 'reserved'; reservation: Reservation }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' }
  | { kind: 'replay'; response: StoredResponse };

export interface Reservation {
  /** Store the executed request's response for replay. */
  complete(response: StoredResponse): void;
  /** Forget the key (the request did not execute). */
  release(): void;
}

export class IdempotencyStore {
  private entries = new Map<string, Entry>();

  /** Atomically (no await) checks the key and, when unused, reserves it for this request. */
  begin(apiKey: string, idempotencyKey: string, fingerprint: string): IdempotencyLookup {
    const mapKey = `${apiKey}\u0000${idempotencyKey}`;
    const existing = this.entries.get(mapKey);
    if (existing) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.response === null) return { kind: 'in_flight' };
      return { kind: 'replay', response: existing.response };
    }
    const entry: Entry = { fingerprint, response: null };
    this.entries.set(mapKey, entry);
    // A reset() while the request runs drops the entry; the identity checks keep a stale
    // reservation from resurrecting or deleting a newer one.
    return {
      kind: 'reserved',
      reservation: {
        complete: (response) => {
          if (this.entries.get(mapKey) === entry) entry.response = response;
        },
        release: () => {
          if (this.entries.get(mapKey) === entry) this.entries.delete(mapKey);
        },
      },
    };
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
