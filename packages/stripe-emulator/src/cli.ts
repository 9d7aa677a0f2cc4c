#!/usr/bin/env tsx
/**
 * Standalone Stripe emulator process.
 *
 *   tsx src/cli.ts [--port N] [--host H] [--latency-ms N]
 *
 * Env: STRIPE_EMULATOR_PORT (default 12111; 0 = any free port), STRIPE_EMULATOR_HOST,
 * STRIPE_EMULATOR_LATENCY_MS. Flags win over env. Prints one line, `stripe emulator: <url>`, once
 * listening; exits cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { startStripeEmulator } from './server';

const DEFAULT_PORT = 12111;
const USAGE = 'usage: stripe-emulator [--port N] [--host H] [--latency-ms N]';

function fail(message: string): never {
  process.stderr.write(`stripe emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function toNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) fail(`invalid ${name}: ${raw}`);
  return value;
}

async function main(): Promise<void> {
  let values: { port?: string; host?: string; 'latency-ms'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'latency-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = toNumber('port', values.port ?? process.env.STRIPE_EMULATOR_PORT, DEFAULT_PORT);
  if (!Number.isInteger(port) || port > 65535) fail(`invalid port: ${port}`);
  const latencyMs = toNumber('latency-ms', values['latency-ms'] ?? process.env.STRIPE_EMULATOR_LATENCY_MS, 0);
  const host = values.host ?? process.env.STRIPE_EMULATOR_HOST ?? '127.0.0.1';

  let emulator: Awaited<ReturnType<typeof startStripeEmulator>>;
  try {
    emulator = await startStripeEmulator({ port, host, latencyMs });
  } catch (err) {
    process.stderr.write(
      `stripe emulator: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`stripe emulator: ${emulator.url}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
