import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildInfo } from '../src/build-info';
import { ConfigError, loadConfig } from '../src/config';
import type { InFlightRequest } from '../src/drain';
import { onShutdownSignals } from '../src/shutdown';
import { DEFAULT_SHUTDOWN, type ShutdownOptions } from '../src/shutdown-config';

/** A process stand-in: signals are delivered by hand; exits and lines are recorded. */
function fakeProcess() {
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
    },
    /** What the OS does on `kill -INT`: every listener of the signal hears it. */
    signal: (signal: NodeJS.Signals) => {
      for (const listener of listeners.get(signal) ?? []) listener(signal);
    },
    exits,
    lines,
  };
}

/** A close() the test finishes by hand, standing for a drain with a pay in flight. */
function slowTarget(inFlight: InFlightRequest[] = []) {
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
    const state = onShutdownSignals(options(), t.target, p.proc);
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
    onShutdownSignals(options(), t.target, p.proc);
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

  it('CHARGEONCE_SHUTDOWN_FORCE_SIGNALS=2 is the old behaviour: the second signal exits at once', () => {
    const p = fakeProcess();
    onShutdownSignals(options({ forceAfterSignals: 2 }), slowTarget([pay]).target, p.proc);
    p.signal('SIGINT');
    p.signal('SIGINT');
    expect(p.exits).toEqual([1]);
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

describe('shutdown and build settings', () => {
  it('defaults: a 25 s deadline (under Kubernetes 30 s grace), no delay, the third signal forces', () => {
    expect(loadConfig({}).shutdown).toEqual({ timeoutMs: 25_000, delayMs: 0, forceAfterSignals: 3 });
    expect(
      loadConfig({
        CHARGEONCE_SHUTDOWN_TIMEOUT_MS: '10000',
        CHARGEONCE_SHUTDOWN_DELAY_MS: '5000',
        CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '2',
      }).shutdown,
    ).toEqual({ timeoutMs: 10_000, delayMs: 5_000, forceAfterSignals: 2 });
  });

  it('refuses a delay that leaves no time to drain, a single-signal force, and an odd commit', () => {
    const refused = (env: Record<string, string>, variable: string) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(variable);
    };
    refused(
      { CHARGEONCE_SHUTDOWN_TIMEOUT_MS: '1000', CHARGEONCE_SHUTDOWN_DELAY_MS: '1000' },
      'CHARGEONCE_SHUTDOWN_DELAY_MS',
    );
    refused({ CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '1' }, 'CHARGEONCE_SHUTDOWN_FORCE_SIGNALS');
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
