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

  // Installed before start-up finishes: a signal during initdb or migration must still stop the
  // embedded PostgreSQL it launched (start-up completes, then everything is closed).
  let running: Running | undefined;
  const shutdown = onShutdownSignals(config.shutdown, {
    close: () => starting.then((r) => r.close()),
    inFlight: () => running?.inFlight() ?? [],
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
