/**
 * A small seeded PRNG (mulberry32). Faults and webhook chaos draw from their own streams so that,
 * given the same seed and the same sequence of requests, a run makes exactly the same choices —
 * which is what lets a chaos harness print a seed that replays a failure.
 */
export type Random = () => number;

export function createRandom(seed: number, stream: string): Random {
  // Mix the stream name into the seed so the fault and webhook streams are independent.
  let state = (Math.trunc(seed) ^ hashString(stream)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Fisher–Yates shuffle in place, driven by `random`. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

/** A seeded stream with the draws a test plan needs (chaos scenarios draw their whole plan from one). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number, stream = 'plan'): Rng {
  const next = createRandom(seed, stream);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)] as (typeof items)[number];
    },
  };
}
