import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DrainHarness, OLD_BEHAVIOUR, startDrainHarness } from '../support/drain';

/**
 * Ctrl-C on `pnpm start` during a pay, through the real wrapper chain (see support/drain.ts): the
 * pay gets its real answer, the server exits 0, the provider shows one charge. The companions run
 * the same harness against the old behaviour (the second signal exits at once) and against a server
 * that counts every copy of one press, and see the pay dropped: the harness catches a server that
 * does not drain. `pnpm drain-trials` repeats it N times.
 */
let harness: DrainHarness;
beforeAll(async () => {
  harness = await startDrainHarness();
});
afterAll(async () => {
  await harness?.stop();
});

describe('Ctrl-C on pnpm start during a pay', () => {
  it('drains it: the pay is charged, the server exits 0, one charge at the provider', {
    timeout: 60_000,
  }, async () => {
    const trial = await harness.trial();
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
    expect(trial.signalsHeard).toBeGreaterThanOrEqual(1);
  });

  it('the root pnpm start too (web build first; two pnpm and two shells in the group): drained', async () => {
    const trial = await harness.trial({ root: true });
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
  }, 120_000);

  it('a second SIGINT to the server itself (what tsx relays), counted, is ignored: still drained', async () => {
    // Every delivery counted (no coalescing): the group's signal, ours, and sometimes tsx's relay
    // too. The third would force by default, so here only a fourth does; all but the first ignored.
    const trial = await harness.trial({
      extraSignals: 1,
      env: { CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '4', CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: '0' },
    });
    expect(trial.signalsHeard).toBeGreaterThanOrEqual(2);
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
  }, 60_000);

  it('one press heard three times (the group, then two more to the server) is one press: drained', async () => {
    const trial = await harness.trial({ extraSignals: 2 });
    expect(trial.signalsHeard).toBeGreaterThanOrEqual(3);
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
  }, 60_000);

  it('companion: counting every copy (COALESCE_MS=0), the same three deliveries force and drop the pay', async () => {
    const trial = await harness.trial({
      extraSignals: 2,
      env: { CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: '0' },
    });
    expect(trial).toMatchObject({ drained: false, serverExit: 1 });
    expect(trial.pay).toMatch(/^error: /);
  }, 60_000);

  it('companion: with the old behaviour (the second signal exits at once) the same harness sees the pay dropped', async () => {
    const trial = await harness.trial(OLD_BEHAVIOUR);
    expect(trial.drained).toBe(false);
    expect(trial.pay).toMatch(/^error: /);
    expect(trial.serverExit).toBe(1);
    // The create still executes at the provider once its hold ends, its caller gone: the charge is
    // made and only recovery, later, can tell anyone.
    await expect.poll(() => harness.chargesFor(trial.orderId), { timeout: 10_000 }).toBe(1);
  }, 60_000);

  it('while draining /readyz answers 503 with Connection: close, before the listener closes', async () => {
    const trial = await harness.trial({
      holdMs: 3000,
      probeReadiness: true,
      env: { CHARGEONCE_SHUTDOWN_DELAY_MS: '1000' },
    });
    expect(trial.readiness).toEqual({ status: 503, connection: 'close' });
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
  }, 60_000);
});
