import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentGateway } from '../src/gateway';
import {
  audited,
  createRefusalRecorder,
  latestOperatorActions,
  reconcileAndRecord,
} from '../src/operations-log';
import { unusedRefundsAndCaptures, useDatabase } from './support';

/** What the operator page reads is written durably and boundedly, and never in the caller's way. */
let handle: DbHandle;
useDatabase('operations-log', (db) => {
  handle = db.handle;
});

const refusals = async () =>
  (await handle.sql<{ n: number }[]>`select count(*)::int as n from webhook_refusals`)[0]!.n;

describe('createRefusalRecorder', () => {
  it('records at most maxPerMinute refusals a minute per instance, and again the next minute', async () => {
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const recorder = createRefusalRecorder(
      { db: handle.db, instanceId: 'sampling' },
      { maxPerMinute: 3, now: () => nowMs },
    );
    const start = await refusals();
    for (let i = 0; i < 10; i++) recorder.record({ reason: 'bad_signature', httpStatus: 400 });
    await expect.poll(refusals).toBe(start + 3);
    nowMs += 60_000;
    recorder.record({ reason: 'retry_later', httpStatus: 503, eventId: 'evt_next', eventType: 'x' });
    await expect.poll(refusals).toBe(start + 4);
    // Had the cap let the other 7 through, they would have landed before the next minute's one.
    expect(await refusals()).toBe(start + 4);
  });

  it('never throws into the webhook route: a database that refuses the row is only logged', async () => {
    const warned: unknown[] = [];
    const recorder = createRefusalRecorder({
      db: handle.db,
      instanceId: 'x'.repeat(10),
      logger: { info() {}, error() {}, warn: (obj) => warned.push(obj) },
    });
    // The CHECK constraint refuses an unknown reason (a stand-in for any failed insert).
    expect(() => recorder.record({ reason: 'no_such_reason' as never, httpStatus: 400 })).not.toThrow();
    await expect.poll(() => warned.length).toBe(1);
  });
});

describe('audited', () => {
  it('writes the action before it runs and its result after; a throw is recorded as error', async () => {
    const seen: string[] = [];
    const answer = await audited(
      { db: handle.db },
      { principal: 'user:audit', action: 'recover_attempt', target: 'a-1' },
      async () => {
        const [row] = await latestOperatorActions(handle.db, 1);
        seen.push(row!.result);
        return 'settled';
      },
      (a) => a,
    );
    expect(answer).toBe('settled');
    expect(seen).toEqual(['started']);
    await expect(
      audited(
        { db: handle.db },
        { principal: 'user:audit', action: 'reconcile', target: 'a-2' },
        () => Promise.reject(new Error('provider down')),
        () => 'never',
      ),
    ).rejects.toThrow('provider down');
    const [failed, done] = await latestOperatorActions(handle.db, 2);
    expect(failed).toMatchObject({ target: 'a-2', result: 'error', finishedAt: expect.any(Date) });
    expect(done).toMatchObject({ target: 'a-1', result: 'settled', finishedAt: expect.any(Date) });
  });

  it('an action that ran keeps its answer when its row cannot be completed: logged, the row stays started', async () => {
    const warned: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = {
      info() {},
      error() {},
      warn: (fields: Record<string, unknown>, message: string) => warned.push({ fields, message }),
    };
    // The database blips between the action and its audit row's update: that update fails.
    const blipping = new Proxy(handle.db, {
      get: (db, property, receiver) =>
        property === 'update'
          ? () => ({ set: () => ({ where: () => Promise.reject(new Error('connection terminated')) }) })
          : Reflect.get(db, property, receiver),
    });
    const answer = await audited(
      { db: blipping, logger },
      { principal: 'user:audit', action: 'recover_attempt', target: 'a-3' },
      async () => 'succeeded',
      (a) => a,
    );
    expect(answer).toBe('succeeded');
    const [row] = await latestOperatorActions(handle.db, 1);
    expect(row).toMatchObject({ target: 'a-3', result: 'started', finishedAt: null });
    expect(warned).toEqual([
      {
        fields: expect.objectContaining({ operatorActionId: row!.id, action: 'recover_attempt' }),
        message: 'could not record the result of an operator action; its row stays started',
      },
    ]);
  });
});

describe('reconcileAndRecord', () => {
  const gateway = (list: () => AsyncIterable<never>): PaymentGateway => ({
    ...unusedRefundsAndCaptures,
    charge: () => Promise.reject(new Error('not used')),
    retrieve: () => Promise.reject(new Error('not used')),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: list,
  });

  it('records a completed run, and a failed one (without its error) before rethrowing', async () => {
    const ok = gateway(async function* () {});
    const { run } = await reconcileAndRecord(
      { db: handle.db, gateway: ok, instanceId: 'i-1' },
      { windowMs: 60_000, trigger: { kind: 'schedule' } },
    );
    expect(run).toMatchObject({
      trigger: 'schedule',
      outcome: 'completed',
      findingsCount: 0,
      requestedBy: null,
    });
    expect(run.windowTo.getTime() - run.windowFrom.getTime()).toBe(60_000);

    const down = gateway(() => {
      throw new Error('sk_live_secret is not valid');
    });
    await expect(
      reconcileAndRecord(
        { db: handle.db, gateway: down, instanceId: 'i-2' },
        { windowMs: 60_000, trigger: { kind: 'operator', requestedBy: 'user:op' } },
      ),
    ).rejects.toThrow();
    const [failed] = await handle.sql`select * from reconciliation_runs where instance_id = 'i-2'`;
    expect(failed).toMatchObject({ outcome: 'failed', requested_by: 'user:op', findings: [] });
    expect(JSON.stringify(failed)).not.toContain('sk_live');
  });
});
