import { createDb } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECOVERY_POLICY, runRecovery } from '../src/recover';
import { unusedRefundsAndCaptures } from './support';

/**
 * A recovery pass while the database is gone rejects, once, and leaves no promise rejected without
 * a handler: in a server process an unhandled rejection ends the process (Node's default), which
 * is what a failover once did to the recovery worker.
 */
describe('runRecovery when the database cannot serve', () => {
  it('rejects with the database error and leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    // Nothing listens on port 1: every statement of every pass fails at once.
    const dead = createDb('postgres://nobody:nothing@127.0.0.1:1/none', { max: 3, connectTimeoutMs: 1_000 });
    const gateway = {
      ...unusedRefundsAndCaptures,
      charge: () => Promise.reject(new Error('not used')),
      retrieve: () => Promise.reject(new Error('not used')),
      findByAttempt: () => Promise.reject(new Error('not used')),
      listPaymentIntents: () => {
        throw new Error('not used');
      },
    };
    try {
      for (let round = 0; round < 1; round++) {
        await expect(
          runRecovery({ db: dead.db, gateway, instanceId: 'outage' }, DEFAULT_RECOVERY_POLICY),
        ).rejects.toThrow();
      }
      // Unhandled rejections are reported after the microtask queue drains: give it a turn.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await dead.close();
    }
  });
});
