/**
 * `pnpm start`: configuration from the environment, then everything it asks for (embedded
 * PostgreSQL and the Stripe emulator when nothing is configured). Prints one line per service.
 */
import { ConfigError, loadConfig } from './config';
import { startChargeonce } from './runtime';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const starting = startChargeonce(config);

  // Installed before start-up finishes: a signal during initdb or migration must still stop the
  // embedded PostgreSQL it launched (start-up completes, then everything is closed).
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: draining in-flight requests and shutting down`);
    starting
      .then((running) => running.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error('shutdown failed:', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const running = await starting;
  if (stopping) return;
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
