/**
 * `pnpm start`: configuration from the environment, then everything it asks for (embedded
 * PostgreSQL and the Stripe emulator when nothing is configured). Prints one line per service.
 */
import { ConfigError, loadConfig } from './config';
import { type Running, startChargeonce } from './runtime';
import { onShutdownSignals } from './shutdown';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const starting = startChargeonce(config);

  // Installed before start-up finishes: a signal during initdb or migration waits for start-up (the
  // deadline starts once it has finished), then drains and closes everything, the embedded
  // PostgreSQL included. A forced exit meanwhile stops that PostgreSQL first, or says it could not.
  let running: Running | undefined;
  const shutdown = onShutdownSignals(config.shutdown, {
    started: starting,
    close: () => starting.then((r) => r.close()),
    inFlight: () => running?.inFlight() ?? [],
    outlives: config.databaseUrl ? undefined : 'the embedded PostgreSQL',
  });
  running = await starting;
  if (shutdown.stopping) return;
  if (running.emulatorUrl) console.log(`stripe emulator: ${running.emulatorUrl}`);
  if (running.demoToken) console.log(`demo token: ${running.demoToken}`);
  if (running.webUrl) console.log(`web: ${running.webUrl}`);
  if (running.metricsUrl) console.log(`metrics: ${running.metricsUrl}`);
  // Last: tools wait for this line, and by then every other line is out.
  console.log(`server: ${running.url}`);
}

main().catch((err: unknown) => {
  console.error(
    err instanceof ConfigError ? err.message : 'chargeonce failed to start:',
    err instanceof ConfigError ? '' : err,
  );
  process.exit(1);
});
