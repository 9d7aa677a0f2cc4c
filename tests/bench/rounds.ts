import { round1, type Spread, spread } from './stats';

/** Rotates the order each round (A B C, B C A, ...) so no cell always runs first or last. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs `rounds` rounds of every cell, cells interleaved within a round and the order rotated from
 * round to round, so drift on a shared machine hits every cell alike. Returns each cell's rounds.
 */
export async function alternate<C extends string, R>(
  cells: readonly C[],
  rounds: number,
  run: (cell: C, round: number) => Promise<R>,
): Promise<Record<C, R[]>> {
  const out = Object.fromEntries(cells.map((c) => [c, [] as R[]])) as Record<C, R[]>;
  for (let round = 0; round < rounds; round++)
    for (const cell of rotated(cells, round)) out[cell].push(await run(cell, round));
  return out;
}

/** Fields that are counts summed over rounds (one double charge is one too many), not spreads. */
const TOTALS = ['duplicates', 'errors'] as const;
type Total = (typeof TOTALS)[number];

/** A cell over its rounds: every measured figure as min / median / max, totals as sums. */
export type Spreads<T> = { [K in keyof T]: K extends Total ? number : Spread };

export function aggregate<T extends Record<string, number>>(rounds: readonly T[]): Spreads<T> {
  const first = rounds[0];
  if (!first) throw new Error('aggregate: no rounds');
  const out: Record<string, number | Spread> = {};
  for (const key of Object.keys(first)) {
    const values = rounds.map((r) => r[key]!);
    out[key] = (TOTALS as readonly string[]).includes(key)
      ? values.reduce((s, v) => s + v, 0)
      : spread(values.map(round1));
  }
  return out as Spreads<T>;
}

/** Every cell of `alternate`'s result aggregated. */
export function aggregateAll<C extends string, T extends Record<string, number>>(
  rounds: Record<C, T[]>,
): Record<C, Spreads<T>> {
  return Object.fromEntries(Object.entries<T[]>(rounds).map(([cell, rs]) => [cell, aggregate(rs)])) as Record<
    C,
    Spreads<T>
  >;
}
