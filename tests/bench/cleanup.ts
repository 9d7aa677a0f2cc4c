/**
 * Everything the bench starts registers its stop here; `cleanupAll` runs them newest first. On
 * SIGINT/SIGTERM the same list runs before exiting, so an interrupted bench leaves no PostgreSQL,
 * server process or emulator behind.
 */
const stops: Array<{ what: string; stop: () => Promise<unknown> }> = [];

export function onCleanup(what: string, stop: () => Promise<unknown>): () => void {
  const entry = { what, stop };
  stops.push(entry);
  return () => {
    const i = stops.indexOf(entry);
    if (i >= 0) stops.splice(i, 1);
  };
}

export async function cleanupAll(): Promise<void> {
  for (const entry of stops.splice(0).reverse()) {
    try {
      await entry.stop();
    } catch (err) {
      console.error(`bench: stopping ${entry.what} failed:`, err);
    }
  }
}

export function exitOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}, stopping everything it started...`);
      cleanupAll().finally(() => process.exit(130));
    });
  }
}

/** Runs a harness's `main`, then stops everything it started and exits with its code (1 if it threw). */
export function runToExit(name: string, main: () => Promise<number>): void {
  main()
    .then(async (code) => {
      await cleanupAll();
      process.exit(code);
    })
    .catch(async (err: unknown) => {
      console.error(`${name} failed:`, err);
      await cleanupAll();
      process.exit(1);
    });
}
