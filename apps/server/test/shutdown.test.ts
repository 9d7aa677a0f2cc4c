import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildInfo } from '../src/build-info';
import { ConfigError, loadConfig } from '../src/config';
import type { InFlightRequest } from '../src/drain';
import { onShutdownSignals, type ShutdownTarget } from '../src/shutdown';
import { DEFAULT_SHUTDOWN, type ShutdownOptions } from '../src/shutdown-config';

/** A process stand-in: signals are delivered by hand (at a time of the test's); exits and lines are recorded. */
function fakeProcess() {
  let clock = 0;
  const listeners = new Map<NodeJS.Signals, Array<(signal: NodeJS.Signals) => void>>();
  const exits: number[] = [];
  const lines: string[] = [];
  return {
    proc: {
      on: (signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void) =>
        listeners.set(signal, [...(listeners.get(signal) ?? []), listener]),
      exit: (code: number) => exits.push(code),
      log: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
      now: () => clock,
    },
    /** What the OS does on `kill -INT`: every listener of the signal hears it (at `atMs`, else now). */
    signal: (signal: NodeJS.Signals, atMs = clock) => {
      clock = atMs;
      for (const listener of listeners.get(signal) ?? []) listener(signal);
    },
    exits,
    lines,
  };
}

/** A close() the test finishes by hand, standing for a drain with a pay in flight. */
function slowTarget(inFlight: InFlightRequest[] = [], startup: Partial<ShutdownTarget> = {}) {
  let finish!: () => void;
  let closes = 0;
  const closed = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    target: {
      close: () => {
        closes++;
        return closed;
      },
      inFlight: () => inFlight,
      ...startup,
    },
    finish: () => finish(),
    closes: () => closes,
  };
}

const options = (o: Partial<ShutdownOptions> = {}): ShutdownOptions => ({ ...DEFAULT_SHUTDOWN, ...o });
const pay: InFlightRequest = { reqId: 'r-1', method: 'POST', url: '/trpc/orders.pay', ageMs: 1200 };

describe('shutdown signals', () => {
  it('a second signal while draining is logged and ignored; exit 0 once drained', async () => {
    const p = fakeProcess();
    const t = slowTarget([pay]);
    // Each signal a press of its own (no coalescing): the count is what is tested here.
    const state = onShutdownSignals(options({ coalesceMs: 0 }), t.target, p.proc);
    expect(state.stopping).toBe(false);
    p.signal('SIGINT');
    p.signal('SIGINT');
    expect(state.stopping).toBe(true);
    expect(t.closes()).toBe(1);
    expect(p.exits).toEqual([]);
    expect(p.lines[1]).toMatch(/^SIGINT again while draining: ignored/);
    t.finish();
    await expect.poll(() => p.exits).toEqual([0]);
    expect(p.lines.at(-1)).toBe('shutdown complete: exiting 0');
  });

  it('the third signal exits 1 at once, naming what was still in flight', () => {
    const p = fakeProcess();
    const t = slowTarget([pay]);
    onShutdownSignals(options({ coalesceMs: 0 }), t.target, p.proc);
    p.signal('SIGTERM');
    p.signal('SIGINT');
    p.signal('SIGTERM');
    expect(p.exits).toEqual([1]);
    const forced = p.lines.at(-1)!;
    expect(forced).toMatch(
      /^shutdown forced \(SIGTERM, signal 3\): exiting 1 with 1 request\(s\) still in flight/,
    );
    expect(forced).toContain('"reqId":"r-1"');
    expect(forced).toContain('/trpc/orders.pay');
  });

  it('the deadline exits 1, naming what was still in flight; a late drain changes nothing', async () => {
    const p = fakeProcess();
    const t = slowTarget([pay]);
    onShutdownSignals(options({ timeoutMs: 50 }), t.target, p.proc);
    p.signal('SIGINT');
    await expect.poll(() => p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toMatch(/^shutdown forced \(deadline of 50 ms passed\): exiting 1 with 1 request/);
    t.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.exits).toEqual([1]);
  });

  it('FORCE_SIGNALS=2 with COALESCE_MS=0 is the old behaviour: the second signal exits at once', () => {
    const p = fakeProcess();
    onShutdownSignals(options({ forceAfterSignals: 2, coalesceMs: 0 }), slowTarget([pay]).target, p.proc);
    p.signal('SIGINT');
    p.signal('SIGINT');
    expect(p.exits).toEqual([1]);
  });

  it('copies of one Ctrl-C within the window are one press: logged, not counted; drained, exit 0', async () => {
    const p = fakeProcess();
    const t = slowTarget([pay]);
    onShutdownSignals(options(), t.target, p.proc);
    // The terminal's signal to the group, tsx's relay ~30 ms later, one more from a wrapper.
    p.signal('SIGINT', 0);
    p.signal('SIGINT', 5);
    p.signal('SIGINT', 31);
    expect(p.exits).toEqual([]);
    expect(p.lines.slice(1)).toEqual([
      'SIGINT again 5 ms after the last counted signal: the same press, ignored (not counted; window 1000 ms)',
      'SIGINT again 31 ms after the last counted signal: the same press, ignored (not counted; window 1000 ms)',
    ]);
    t.finish();
    await expect.poll(() => p.exits).toEqual([0]);
  });

  it('signals after the window are counted (from the last counted one): the third such forces', () => {
    const p = fakeProcess();
    onShutdownSignals(options(), slowTarget([pay]).target, p.proc);
    p.signal('SIGINT', 0);
    p.signal('SIGINT', 600); // within 1000 ms of 0: the same press
    p.signal('SIGINT', 1200); // 1200 ms after the last counted: signal 2, ignored while draining
    expect(p.lines.at(-1)).toMatch(
      /^SIGINT again while draining: ignored \(signal 2; signal 3 exits at once\)/,
    );
    p.signal('SIGINT', 2199); // 999 ms after signal 2: the same press
    expect(p.exits).toEqual([]);
    p.signal('SIGTERM', 2200);
    expect(p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toMatch(/^shutdown forced \(SIGTERM, signal 3\): exiting 1 with 1 request/);
  });

  it('a failed close exits 1 and says why', async () => {
    const p = fakeProcess();
    const target = { close: () => Promise.reject(new Error('pool would not close')), inFlight: () => [] };
    onShutdownSignals(options(), target, p.proc);
    p.signal('SIGTERM');
    await expect.poll(() => p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toMatch(/^shutdown failed: exiting 1: Error: pool would not close/);
  });
});

/** Start-up, finished by hand: the embedded PostgreSQL's initdb and migrations still running. */
function startup() {
  let finish!: () => void;
  const started = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { started, finish: () => finish() };
}

describe('shutdown signals during start-up', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a signal arms no deadline while start-up runs; once it has finished: drain, exit 0', async () => {
    vi.useFakeTimers();
    const p = fakeProcess();
    const s = startup();
    const t = slowTarget([], { started: s.started });
    onShutdownSignals(options({ timeoutMs: 50 }), t.target, p.proc);
    p.signal('SIGINT');
    expect(p.lines[0]).toMatch(/start-up is still running: the deadline starts once it has finished/);
    // initdb and migrations take longer than the deadline: nothing is forced meanwhile.
    await vi.advanceTimersByTimeAsync(500);
    expect(p.exits).toEqual([]);
    expect(t.closes()).toBe(0);
    s.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.closes()).toBe(1);
    t.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.exits).toEqual([0]);
  });

  it('the deadline runs from the end of start-up', async () => {
    vi.useFakeTimers();
    const p = fakeProcess();
    const s = startup();
    const t = slowTarget([pay], { started: s.started });
    onShutdownSignals(options({ timeoutMs: 50 }), t.target, p.proc);
    p.signal('SIGTERM');
    await vi.advanceTimersByTimeAsync(500);
    s.finish();
    await vi.advanceTimersByTimeAsync(49);
    expect(p.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toMatch(/^shutdown forced \(deadline of 50 ms passed\): exiting 1 with 1 request/);
  });

  it('a forced exit during start-up stops the embedded PostgreSQL it launched first, then exits 1', async () => {
    vi.useFakeTimers();
    const p = fakeProcess();
    const s = startup();
    const t = slowTarget([], { started: s.started, outlives: 'the embedded PostgreSQL' });
    onShutdownSignals(options({ coalesceMs: 0 }), t.target, p.proc);
    for (const signal of ['SIGINT', 'SIGINT', 'SIGINT'] as const) p.signal(signal);
    expect(p.exits).toEqual([]);
    expect(p.lines.at(-1)).toMatch(
      /^shutdown forced \(SIGINT, signal 3\) during start-up: stopping the embedded PostgreSQL first/,
    );
    s.finish();
    await vi.advanceTimersByTimeAsync(0);
    // One close: the drain that the first signal asked for does not run beside it.
    expect(t.closes()).toBe(1);
    expect(p.exits).toEqual([]);
    t.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toBe(
      'shutdown forced (SIGINT, signal 3): the embedded PostgreSQL stopped: exiting 1',
    );
  });

  it('says clearly when it could not stop it: start-up still running at the bound, or one more signal', async () => {
    vi.useFakeTimers();
    const bounded = fakeProcess();
    const t = slowTarget([], { started: startup().started, outlives: 'the embedded PostgreSQL' });
    onShutdownSignals(
      options({ timeoutMs: 50, coalesceMs: 0, forceAfterSignals: 2 }),
      t.target,
      bounded.proc,
    );
    bounded.signal('SIGINT');
    bounded.signal('SIGINT');
    await vi.advanceTimersByTimeAsync(50);
    expect(bounded.exits).toEqual([1]);
    expect(bounded.lines.at(-1)).toMatch(
      /^shutdown forced \(SIGINT, signal 2\): exiting 1 without having stopped the embedded PostgreSQL \(not stopped within 50 ms\): it may still be running/,
    );

    const impatient = fakeProcess();
    const u = slowTarget([], { started: startup().started, outlives: 'the embedded PostgreSQL' });
    onShutdownSignals(options({ coalesceMs: 0, forceAfterSignals: 2 }), u.target, impatient.proc);
    for (const signal of ['SIGINT', 'SIGINT', 'SIGTERM'] as const) impatient.signal(signal);
    expect(impatient.exits).toEqual([1]);
    expect(impatient.lines.at(-1)).toMatch(
      /^shutdown forced \(SIGTERM, signal 3\): exiting 1 without having stopped the embedded PostgreSQL \(one more signal\): it may still be running/,
    );
  });

  it('nothing that outlives the process (an external database): a forced exit during start-up is at once', () => {
    const p = fakeProcess();
    const t = slowTarget([], { started: startup().started });
    onShutdownSignals(options({ coalesceMs: 0, forceAfterSignals: 2 }), t.target, p.proc);
    p.signal('SIGINT');
    p.signal('SIGINT');
    expect(p.exits).toEqual([1]);
    expect(p.lines.at(-1)).toBe('shutdown forced (SIGINT, signal 2) during start-up: exiting 1');
    expect(t.closes()).toBe(0);
  });
});

describe('shutdown and build settings', () => {
  it('defaults: a 25 s deadline (under Kubernetes 30 s grace), no delay, the third signal forces', () => {
    expect(loadConfig({}).shutdown).toEqual({
      timeoutMs: 25_000,
      delayMs: 0,
      forceAfterSignals: 3,
      coalesceMs: 1_000,
    });
    expect(
      loadConfig({
        CHARGEONCE_SHUTDOWN_TIMEOUT_MS: '10000',
        CHARGEONCE_SHUTDOWN_DELAY_MS: '5000',
        CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '2',
        CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: '0',
      }).shutdown,
    ).toEqual({ timeoutMs: 10_000, delayMs: 5_000, forceAfterSignals: 2, coalesceMs: 0 });
  });

  it('refuses a delay that leaves no time to drain, a single-signal force, a bad window, an odd commit', () => {
    const refused = (env: Record<string, string>, variable: string) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(variable);
    };
    refused(
      { CHARGEONCE_SHUTDOWN_TIMEOUT_MS: '1000', CHARGEONCE_SHUTDOWN_DELAY_MS: '1000' },
      'CHARGEONCE_SHUTDOWN_DELAY_MS',
    );
    refused({ CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '1' }, 'CHARGEONCE_SHUTDOWN_FORCE_SIGNALS');
    for (const window of ['-1', '1.5', 'soon', '10001']) {
      refused({ CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: window }, 'CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS');
    }
    refused({ CHARGEONCE_BUILD_COMMIT: 'abc def' }, 'CHARGEONCE_BUILD_COMMIT');
    expect(loadConfig({ CHARGEONCE_BUILD_COMMIT: '' }).buildCommit).toBeUndefined();
  });

  it('build info: the configured commit, else the checkout’s HEAD; the package version; this Node', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(buildInfo('c0ffee1')).toEqual({ version, node: process.version, commit: 'c0ffee1' });
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(buildInfo(undefined).commit).toBe(head);
  });
});
