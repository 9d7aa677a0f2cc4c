/**
 * A closed-loop load driver: `clients` loops, each issuing its next operation as soon as the
 * previous one answered, until the deadline or until `next` runs out of work. Bounded by both.
 */
export interface LoadResult {
  latenciesMs: number[];
  /** From the start until the last operation answered (those in flight at the deadline included). */
  elapsedMs: number;
  /** Operations that answered before the deadline: steady throughput, without the drain after it. */
  completedInTime: number;
  errors: number;
  firstError: unknown;
}

export async function closedLoop(options: {
  clients: number;
  durationMs: number;
  /** The next operation for a client, or undefined when there is no more work. */
  next: (client: number) => (() => Promise<unknown>) | undefined;
}): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let completedInTime = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async (index: number) => {
    while (performance.now() < deadline) {
      const op = options.next(index);
      if (!op) return;
      const t0 = performance.now();
      try {
        await op();
        const t1 = performance.now();
        latenciesMs.push(t1 - t0);
        if (t1 <= deadline) completedInTime++;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  return { latenciesMs, elapsedMs: performance.now() - started, completedInTime, errors, firstError };
}

/** Hands out items of a list once each, across all clients. */
export function queue<T>(items: readonly T[]): () => T | undefined {
  let i = 0;
  return () => items[i++];
}
