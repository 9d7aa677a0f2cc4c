import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DrainHarness, startDrainHarness } from '../support/drain';

/**
 * Ctrl-C on `pnpm start` during a pay, through the real wrapper chain (see support/drain.ts): the
 * pay gets its real answer, the server exits 0, the provider shows one charge. The companion runs
 * the same harness against the old behaviour (the second signal exits at once) and sees the pay
 * dropped: the harness catches a server that does not drain. `pnpm drain-trials` repeats it N times.
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

  it('a second SIGINT to the server itself (what tsx relays) is ignored: still drained', async () => {
    // The group's signal, ours, and sometimes tsx's relay too: two or three. The third would force
    // by default, so here only a fourth does, and every delivery but the first must be ignored.
    const trial = await harness.trial({ extraSignal: true, env: { CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '4' } });
    expect(trial.signalsHeard).toBeGreaterThanOrEqual(2);
    expect(trial).toMatchObject({ pay: 'charged', serverExit: 0, charges: 1, drained: true });
  }, 60_000);

  it('companion: with the old behaviour (the second signal exits at once) the same harness sees the pay dropped', async () => {
    const trial = await harness.trial({ extraSignal: true, env: { CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '2' } });
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
