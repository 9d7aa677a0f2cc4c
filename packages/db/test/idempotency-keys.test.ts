import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../src/client';
import { completeKey, forgetKey, releaseKey, type TakeKeyParams, takeKey } from '../src/idempotency';
import { aroundStatements, startTestDatabase, type TestDatabase } from '../src/testing';

/**
 * The key statements on their own, on real PostgreSQL: what each answers to the request that holds
 * a key and to one that no longer does, and takeKey's second statement racing the key's row.
 */
let database: TestDatabase;
let handle: DbHandle;
beforeAll(async () => {
  database = await startTestDatabase();
  handle = createDb(database.url, { max: 4 });
});
afterAll(async () => {
  await handle?.close();
  await database?.stop();
});

const params = (over: Partial<TakeKeyParams> = {}): TakeKeyParams => ({
  owner: { kind: 'user', id: randomUUID() },
  key: `key-${randomUUID()}`,
  procedure: 'orders.refund',
  fingerprint: 'fp-1',
  leaseMs: 60_000,
  ...over,
});

async function taken(p: TakeKeyParams) {
  const result = await takeKey(handle.db, p);
  if (result.kind !== 'execute') throw new Error(`expected to take the key, got ${result.kind}`);
  return result;
}

describe('completeKey, releaseKey and forgetKey', () => {
  it('each answers true to the request holding the key, and false once it no longer does', async () => {
    const p = params();
    const first = await taken(p);
    expect(await completeKey(handle.db, first, { response: { data: 1 }, httpStatus: 200 })).toBe(true);
    expect(await completeKey(handle.db, first, { response: { data: 2 }, httpStatus: 200 })).toBe(false);
    expect(await takeKey(handle.db, p)).toEqual({ kind: 'replay', response: { data: 1 }, httpStatus: 200 });

    const q = params();
    const held = await taken(q);
    expect(await releaseKey(handle.db, held)).toBe(true);
    expect(await releaseKey(handle.db, held)).toBe(false);
    const again = await taken(q);
    expect(again.lockToken).not.toBe(held.lockToken);
    // The first holder's token no longer holds it: nothing it does counts.
    expect(await forgetKey(handle.db, held)).toBe(false);
    expect(await forgetKey(handle.db, again)).toBe(true);
    expect(await forgetKey(handle.db, again)).toBe(false);
    expect((await taken(q)).keyId).not.toBe(again.keyId);
  });
});

describe('takeKey', () => {
  it('a key another request holds is in use for what is left of its lease, never replayed', async () => {
    const p = params();
    await taken(p);
    const second = await takeKey(handle.db, p);
    expect(second).toMatchObject({ kind: 'in_use' });
    const left = (second as { leaseLeftMs: number }).leaseLeftMs;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(await takeKey(handle.db, { ...p, fingerprint: 'fp-2' })).toEqual({
      kind: 'mismatch',
      procedure: 'orders.refund',
    });
  });

  it('a lease that ran out between its two statements is taken on the next turn', async () => {
    const p = params();
    const first = await taken(p);
    let expired = false;
    const racing = aroundStatements(handle.db, 'select', {
      async before() {
        if (expired) return;
        expired = true;
        await handle.db.execute(
          sql`update idempotency_keys set locked_at = now() - interval '1 hour' where id = ${first.keyId}`,
        );
      },
    });
    const result = await takeKey(racing, p);
    expect(result).toMatchObject({ kind: 'execute', keyId: first.keyId });
    expect(expired).toBe(true);
  });

  it('a row that vanishes on every turn gives up after three: in use, retry now', async () => {
    const p = params();
    let turns = 0;
    const vanishing = aroundStatements(handle.db, 'select', {
      // Another request's row is there at each take, and gone (reaped) when this one looks.
      async before() {
        turns++;
        await handle.db.execute(sql`delete from idempotency_keys where key = ${p.key}`);
      },
      async after() {
        await takeKey(handle.db, { ...p, fingerprint: 'someone-else' });
      },
    });
    await takeKey(handle.db, { ...p, fingerprint: 'someone-else' });
    expect(await takeKey(vanishing, p)).toEqual({ kind: 'in_use', leaseLeftMs: 0 });
    expect(turns).toBe(3);
  });
});
