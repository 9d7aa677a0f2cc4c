import { describe, expect, it } from 'vitest';
import { matchRoute } from '../src/navigation';
import {
  type AwaitingItem,
  ageInWords,
  awaitingRows,
  canAct,
  canOperate,
  type Overview,
  recoverable,
  recoverOutcomeInWords,
  refusalInWords,
  waitingFor,
  withAnswer,
} from '../src/operator/view';

const item = (over: Partial<AwaitingItem>): AwaitingItem => ({
  kind: 'attempt',
  id: 'a1',
  orderId: 'o1',
  status: 'processing',
  amount: 4200,
  currency: 'usd',
  ageSeconds: 10,
  recoveryRuns: 0,
  leaseUntil: null,
  ...over,
});

describe('who sees the operator page', () => {
  it('needs operations:read to be shown, operations:write to act; a customer has neither', () => {
    const customer = ['orders:read', 'orders:write', 'orders:pay', 'orders:refund'];
    expect(canOperate(customer)).toBe(false);
    expect(canOperate(undefined)).toBe(false);
    expect(canOperate([...customer, 'operations:read'])).toBe(true);
    expect(canAct([...customer, 'operations:read'])).toBe(false);
    expect(canAct([...customer, 'operations:read', 'operations:write'])).toBe(true);
  });
  it('is at /operator', () => {
    expect(matchRoute('/operator')).toEqual({ name: 'operator' });
    expect(matchRoute('/operator/')).toEqual({ name: 'operator' });
    expect(matchRoute('/operators')).toEqual({ name: 'not-found' });
  });
});

describe('what awaits an outcome', () => {
  it('every kind in one list, oldest first; holds are shown but not recoverable from the page', () => {
    const overview = {
      attempts: [item({ id: 'a', ageSeconds: 30 })],
      refunds: [item({ kind: 'refund', id: 'r', status: 'pending', ageSeconds: 90 })],
      captures: [item({ kind: 'capture', id: 'c', status: 'void', ageSeconds: 5 })],
      authorizations: [item({ kind: 'authorization', id: 'h', status: 'authorized', ageSeconds: 600 })],
    } as unknown as Overview;
    const rows = awaitingRows(overview);
    expect(rows.map((r) => r.id)).toEqual(['h', 'r', 'a', 'c']);
    expect(rows.map(recoverable)).toEqual([false, true, true, true]);
    expect(rows.map(waitingFor)).toEqual([
      'held, to capture or release',
      'refund outcome unknown',
      'provider outcome unknown',
      'void outcome unknown',
    ]);
    expect(waitingFor(item({ status: 'requires_action' }))).toBe('3-D Secure challenge open');
  });

  it('ages read in their two largest units, never negative', () => {
    expect(ageInWords(0)).toBe('0 s');
    expect(ageInWords(-3)).toBe('0 s');
    expect(ageInWords(12.9)).toBe('12 s');
    expect(ageInWords(125)).toBe('2 min 5 s');
    expect(ageInWords(3_600)).toBe('1 h 0 min');
    expect(ageInWords(3 * 86_400 + 4 * 3_600 + 59)).toBe('3 d 4 h');
  });
});

describe('answers in words', () => {
  it('says whether recovery settled it, or what it still waits for', () => {
    expect(recoverOutcomeInWords({ outcome: 'succeeded', status: 'succeeded' })).toBe(
      'settled: succeeded (now succeeded)',
    );
    expect(recoverOutcomeInWords({ outcome: 'already_final', status: 'succeeded' })).toBe(
      'already settled; nothing was sent (now succeeded)',
    );
    expect(recoverOutcomeInWords({ outcome: 'unknown', status: 'processing' })).toMatch(/still unknown/);
    expect(recoverOutcomeInWords({ outcome: 'busy', status: 'requires_action' })).toMatch(
      /now requires action\)$/,
    );
  });
  it('names why a webhook delivery was refused; an unknown reason as it is', () => {
    expect(refusalInWords('bad_signature')).toBe('bad or missing signature');
    expect(refusalInWords('database_unavailable')).toMatch(/Stripe delivers it again/);
    expect(refusalInWords('something_new')).toBe('something_new');
    expect(refusalInWords('__proto__')).toBe('__proto__');
  });
});

describe('withAnswer', () => {
  it('keeps the newest first, at most five, and one line per distinct answer', () => {
    let shown: string[] = [];
    for (const n of [1, 2, 3, 4, 5, 6]) shown = withAnswer(shown, `answer ${n}`);
    expect(shown).toEqual(['answer 6', 'answer 5', 'answer 4', 'answer 3', 'answer 2']);
    // A double click's two responses carry the one outcome: shown once (the list's React keys are
    // the lines, so a duplicate would also collide), and a repeat moves it to the top.
    expect(withAnswer(withAnswer([], 'settled'), 'settled')).toEqual(['settled']);
    expect(withAnswer(['b', 'a'], 'a')).toEqual(['a', 'b']);
  });
});
