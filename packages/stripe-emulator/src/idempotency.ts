/**
 * Stripe's v1 idempotency: the first POST with a given (secret key, Idempotency-Key) reserves the key;
 * once it has executed, its status code and body are stored and replayed to every later request with the
 * same key and the same method, path and parameters. A later request with different parameters gets an
 * `idempotency_error` (400); one arriving while the first is still executing gets 409
 * `idempotency_key_in_use`. Requests rejected before executing (validation) release the key unstored.
 *
 * Stripe prunes keys once they are at least 24 h old; `ttlMs` (null = never) emulates that, so that a
 * request reusing a pruned key executes again — the danger a recovery worker must avoid.
 */

export interface StoredResponse {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse | null; // null while the first request is executing
  /** When the key was first used (ms since epoch); its age is measured from here, as in Stripe. */
  createdAt: number;
}

/** A completed entry as persisted to the state file. */
export interface SavedIdempotencyEntry {
  key: string;
  fingerprint: string;
  response: StoredResponse;
  createdAt: number;
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
  /** Age after which a completed key is forgotten; null = never. */
  ttlMs: number | null = null;

  /** Whether a request with this key would execute now (unused or expired key); does not reserve. */
  wouldExecute(apiKey: string, idempotencyKey: string): boolean {
    return this.current(`${apiKey}\u0000${idempotencyKey}`) === undefined;
  }

  /** Atomically (no await) checks the key and, when unused, reserves it for this request. */
  begin(apiKey: string, idempotencyKey: string, fingerprint: string): IdempotencyLookup {
    const mapKey = `${apiKey}\u0000${idempotencyKey}`;
    const existing = this.current(mapKey);
    if (existing) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.response === null) return { kind: 'in_flight' };
      return { kind: 'replay', response: existing.response };
    }
    const entry: Entry = { fingerprint, response: null, createdAt: Date.now() };
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

  /**
   * Forgets completed keys at least `olderThanMs` old (in-flight ones are kept: their request is still
   * executing). Returns how many were forgotten.
   */
  prune(olderThanMs: number, now = Date.now()): number {
    let pruned = 0;
    for (const [mapKey, entry] of this.entries) {
      if (entry.response !== null && now - entry.createdAt >= olderThanMs) {
        this.entries.delete(mapKey);
        pruned++;
      }
    }
    return pruned;
  }

  /** Completed, unexpired entries (in-flight ones did not execute yet, so a restart forgets them). */
  save(): SavedIdempotencyEntry[] {
    const out: SavedIdempotencyEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.response !== null && !this.expired(entry))
        out.push({
          key,
          fingerprint: entry.fingerprint,
          response: entry.response,
          createdAt: entry.createdAt,
        });
    }
    return out;
  }

  load(saved: readonly SavedIdempotencyEntry[]): void {
    this.entries.clear();
    for (const e of saved) {
      this.entries.set(e.key, { fingerprint: e.fingerprint, response: e.response, createdAt: e.createdAt });
    }
  }

  /** The live entry for a key, dropping it first if it has expired (lazy pruning: O(1) per request). */
  private current(mapKey: string): Entry | undefined {
    const entry = this.entries.get(mapKey);
    if (entry && this.expired(entry)) {
      this.entries.delete(mapKey);
      return undefined;
    }
    return entry;
  }

  private expired(entry: Entry): boolean {
    return entry.response !== null && this.ttlMs !== null && Date.now() - entry.createdAt >= this.ttlMs;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
