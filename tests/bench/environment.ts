import { existsSync } from 'node:fs';
import { createDb, createUserWithToken, type DbHandle, DEFAULT_POOL_SIZE } from '@chargeonce/db';
import { startTestDatabase } from '@chargeonce/db/testing';
import { createStripeGateway, type PaymentGateway } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import type postgres from 'postgres';
import { PGBOUNCER, startPgBouncer } from '../support/pgbouncer';
import { onCleanup } from './cleanup';

/** Same pool size for every strategy (the rule), and the server's default. */
export const POOL_SIZE = DEFAULT_POOL_SIZE;

export interface BenchEnv {
  url: string;
  /** The pool every strategy uses; every statement it sends is counted in `statements`. */
  db: DbHandle;
  /** A small side pool for seeding and resetting, outside the measured pool. */
  admin: DbHandle;
  /**
   * The same database through PgBouncer in transaction mode, statements unnamed (as the README's
   * pooler setting): the pooled path's cost. Undefined when PgBouncer is not installed.
   */
  pooled: DbHandle | undefined;
  emulator: StripeEmulator;
  /** The real `stripe` SDK, through the product's gateway, to the emulator. */
  gateway: PaymentGateway;
  userId: string;
  statements: { count: number };
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const database = await startTestDatabase();
  onCleanup('PostgreSQL', () => database.stop());
  const emulator = await startStripeEmulator({ latencyMs: 0 });
  onCleanup('Stripe emulator', () => emulator.close());
  const statements = { count: 0 };
  const db = createDb(database.url, {
    max: POOL_SIZE,
    applicationName: 'chargeonce-bench',
    onQuery: () => {
      statements.count++;
    },
  });
  onCleanup('bench pool', () => db.close());
  let pooled: DbHandle | undefined;
  if (existsSync(PGBOUNCER)) {
    const bouncer = await startPgBouncer(database.url, { poolSize: POOL_SIZE });
    onCleanup('PgBouncer', () => bouncer.stop());
    pooled = createDb(bouncer.url, {
      max: POOL_SIZE,
      prepare: false,
      applicationName: 'chargeonce-bench-pooled',
      onQuery: () => {
        statements.count++;
      },
    });
    onCleanup('pooled pool', () => pooled!.close());
  }
  const admin = createDb(database.url, { max: 2, applicationName: 'chargeonce-bench-admin' });
  onCleanup('admin pool', () => admin.close());
  const user = await createUserWithToken(admin.db, { name: 'bench' });
  const gateway = createStripeGateway({
    secretKey: EMULATOR_SECRET_KEY,
    apiBase: emulator.url,
    timeoutMs: 20_000,
    maxNetworkRetries: 2,
  });
  return { url: database.url, db, admin, pooled, emulator, gateway, userId: user.id, statements };
}

/**
 * Empties orders and attempts and inserts `count` fresh pending orders in one statement, so every
 * cell starts from the same table size whatever ran before it (no drift from a growing table).
 */
export async function freshOrders(sql: postgres.Sql, userId: string, count: number): Promise<string[]> {
  await sql`truncate payment_attempts, orders cascade`;
  const rows = await sql<{ id: string }[]>`
    insert into orders (user_id, amount, currency, payment_method_id)
    select ${userId}, 1999, 'usd', 'pm_card_visa' from generate_series(1, ${count})
    returning id`;
  await sql`analyze orders`;
  return rows.map((r) => r.id);
}

/** Orders with more than one succeeded PaymentIntent at the provider (the emulator's ledger). */
export function countDuplicates(emulator: StripeEmulator): number {
  const perOrder = new Map<string, number>();
  for (const pi of emulator.paymentIntents()) {
    const orderId = pi.metadata.order_id;
    if (pi.status !== 'succeeded' || !orderId) continue;
    perOrder.set(orderId, (perOrder.get(orderId) ?? 0) + 1);
  }
  let duplicates = 0;
  for (const n of perOrder.values()) if (n > 1) duplicates++;
  return duplicates;
}
