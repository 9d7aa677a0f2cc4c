#!/usr/bin/env tsx
/**
 * Standalone Stripe emulator process — runs on its own so it outlives chargeonce server restarts.
 *
 *   tsx src/cli.ts [--port N] [--host H] [--latency-ms N] [--state-file PATH] [--seed N]
 *                  [--webhook-url URL] [--webhook-secret whsec_...] [--idempotency-key-ttl-ms N]
 *                  [--processing-delay-ms N] [--refund-delay-ms N] [--authorization-ttl-ms N]
 *                  [--faults JSON] [-h | --help]
 *
 * `--help` prints the usage and exits 0 without starting anything; an unknown flag or a bad value
 * prints the usage on stderr and exits 2.
 *
 * Env: STRIPE_EMULATOR_PORT (default 12111; 0 = any free port), STRIPE_EMULATOR_HOST,
 * STRIPE_EMULATOR_LATENCY_MS, STRIPE_EMULATOR_STATE_FILE. Flags win over env. Prints one line,
 * `stripe emulator: <url>`, once listening; on SIGTERM / SIGINT writes the state file and exits 0.
 */
import { parseArgs } from 'node:util';
import { startStripeEmulator } from './server';
import type { EmulatorOptions } from './types';

const DEFAULT_PORT = 12111;
const USAGE =
  'usage: stripe-emulator [--port N] [--host H] [--latency-ms N] [--state-file PATH] [--seed N]\n' +
  '       [--webhook-url URL] [--webhook-secret whsec_...] [--idempotency-key-ttl-ms N]\n' +
  '       [--processing-delay-ms N] [--refund-delay-ms N] [--authorization-ttl-ms N]\n' +
  '       [--faults JSON] [-h | --help]';

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

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'latency-ms': { type: 'string' },
  'state-file': { type: 'string' },
  seed: { type: 'string' },
  'webhook-url': { type: 'string' },
  'webhook-secret': { type: 'string' },
  'idempotency-key-ttl-ms': { type: 'string' },
  'processing-delay-ms': { type: 'string' },
  'refund-delay-ms': { type: 'string' },
  'authorization-ttl-ms': { type: 'string' },
  faults: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The flags, without one leading `--`: `pnpm ... start -- --port 1` hands the script a literal `--`
 * first, which parseArgs would take as the end of the flags (and the flags as stray arguments).
 */
function flagArgs(argv: string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : argv;
}

function parseOptions(): EmulatorOptions | null {
  let values: ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>['values'];
  try {
    ({ values } = parseArgs({ args: flagArgs(process.argv.slice(2)), options: FLAGS, strict: true }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return null;
  const port = toNumber('port', values.port ?? process.env.STRIPE_EMULATOR_PORT, DEFAULT_PORT);
  if (!Number.isInteger(port) || port > 65535) fail(`invalid port: ${port}`);
  const options: EmulatorOptions = {
    port,
    host: values.host ?? process.env.STRIPE_EMULATOR_HOST ?? '127.0.0.1',
    latencyMs: toNumber('latency-ms', values['latency-ms'] ?? process.env.STRIPE_EMULATOR_LATENCY_MS, 0),
  };
  const stateFile = values['state-file'] ?? process.env.STRIPE_EMULATOR_STATE_FILE;
  if (stateFile) options.stateFile = stateFile;
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed)) fail(`invalid seed: ${values.seed}`);
    options.seed = seed;
  }
  if (values['webhook-url'] !== undefined) options.webhookUrl = values['webhook-url'];
  if (values['webhook-secret'] !== undefined) options.webhookSecret = values['webhook-secret'];
  const ttl = values['idempotency-key-ttl-ms'];
  if (ttl !== undefined) options.idempotencyKeyTtlMs = toNumber('idempotency-key-ttl-ms', ttl, 0);
  const processing = values['processing-delay-ms'];
  if (processing !== undefined) options.processingDelayMs = toNumber('processing-delay-ms', processing, 0);
  const refundDelay = values['refund-delay-ms'];
  if (refundDelay !== undefined) options.refundDelayMs = toNumber('refund-delay-ms', refundDelay, 0);
  const authorizationTtl = values['authorization-ttl-ms'];
  if (authorizationTtl !== undefined) {
    options.authorizationTtlMs = toNumber('authorization-ttl-ms', authorizationTtl, 0);
  }
  if (values.faults !== undefined) {
    try {
      options.faults = JSON.parse(values.faults);
    } catch {
      fail('--faults must be JSON, e.g. \'{"rules":[{"fault":"error_before","times":1}]}\'');
    }
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let emulator: Awaited<ReturnType<typeof startStripeEmulator>>;
  try {
    emulator = await startStripeEmulator(options);
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
