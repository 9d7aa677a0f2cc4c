/**
 * The development-only packages, loaded with `import()` only when the configuration asks for them:
 * the Stripe emulator (no STRIPE_SECRET_KEY) and embedded PostgreSQL with its ~100 MB of binaries
 * (no DATABASE_URL). They are devDependencies, so a production install (`pnpm deploy --prod`, the
 * image) has neither; asked for there, the server refuses to start saying what to configure.
 * `build.ts` fails the production build if anything imports them statically.
 */
import { importIfInstalled } from '@chargeonce/cli';
import { ConfigError } from './config';

export const loadEmulator = () =>
  required(
    () => importIfInstalled('@chargeonce/stripe-emulator', () => import('@chargeonce/stripe-emulator')),
    'STRIPE_SECRET_KEY is not set, and this is a production build without the Stripe emulator: ' +
      'set STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET for webhooks)',
  );

export const loadEmbeddedPostgres = () =>
  required(
    () => importIfInstalled('@chargeonce/embedded-postgres', () => import('@chargeonce/embedded-postgres')),
    'DATABASE_URL is not set, and this is a production build without embedded PostgreSQL: ' +
      'set DATABASE_URL (postgres://user:password@host:5432/database)',
  );

async function required<T>(load: () => Promise<T | undefined>, missing: string): Promise<T> {
  const loaded = await load();
  if (loaded === undefined) throw new ConfigError(`invalid configuration: ${missing}`);
  return loaded;
}
