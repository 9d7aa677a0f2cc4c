import { randomBytes } from 'node:crypto';
import type { Database } from '@chargeonce/db';
import {
  createStripeGateway,
  type Logger,
  type PaymentGateway,
  type PaymentsDeps,
} from '@chargeonce/payments';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import type { Config } from './config';
import { loadEmulator } from './dev-packages';
import type { Resources } from './resources';

/** The Stripe gateway for a key and API base, bounded as the configuration says; `logger` logs each request. */
export function createGateway(
  config: Config,
  stripe: { secretKey: string; apiBase?: string | undefined },
  logger?: Logger,
) {
  return createStripeGateway({ ...stripe, ...config.stripeCalls, logger });
}

/** The payments use cases' dependencies, as the server and the one-shot tools build them. */
export function paymentsDeps(
  config: Config,
  db: Database,
  gateway: PaymentGateway,
  extra: Partial<Pick<PaymentsDeps, 'hooks' | 'instanceId'>> = {},
): PaymentsDeps {
  return {
    db,
    gateway,
    instanceId: config.instanceId,
    policy: config.pay,
    returnUrl: config.returnUrl,
    ...extra,
  };
}

export interface OpenProvider {
  gateway: PaymentGateway;
  /** Set when the in-process Stripe emulator runs (nothing configured). */
  emulator: StripeEmulator | undefined;
  /** The key the gateway uses with the in-process emulator (for the tools, via endpoints.json). */
  emulatorSecretKey: string | undefined;
  /** The webhook endpoint's signing secret: configured, or made up per run for the emulator. */
  webhookSecret: string | undefined;
}

/** Real Stripe when a key is configured, else the Stripe emulator in this process. */
export async function openProvider(
  config: Config,
  resources: Resources,
  override?: PaymentGateway,
  logger?: Logger,
): Promise<OpenProvider> {
  let stripe = config.stripe;
  let emulator: StripeEmulator | undefined;
  if (!stripe && !override) {
    const { EMULATOR_SECRET_KEY, startStripeEmulator } = await loadEmulator();
    emulator = await startStripeEmulator({ port: config.emulatorPort });
    resources.add(() => emulator!.close());
    stripe = { secretKey: EMULATOR_SECRET_KEY, apiBase: emulator.url };
  }
  const gateway = override ?? createGateway(config, stripe!, logger);
  const webhookSecret =
    config.webhookSecret ?? (emulator ? `whsec_${randomBytes(24).toString('hex')}` : undefined);
  return { gateway, emulator, emulatorSecretKey: emulator ? stripe!.secretKey : undefined, webhookSecret };
}
