/**
 * The HTTP floor (issue 15, item 4): the least an HTTP service can do for one payment on this
 * machine. One bare fastify route, `POST /pay` with JSON `{ orderId }`, running exactly the
 * product's two statements (`floorAttempt`: the claim, then the settle, with a zero-latency provider
 * stub in between) on a pool of the server's default size. No tRPC, no auth, no logging, no SDK,
 * no metrics: what the product's server costs on top of this is the price of its features.
 *
 * Run as its own process by the bench (tests/bench/http.ts), like the real servers:
 *   DATABASE_URL=postgres://... FLOOR_USER_ID=<uuid> PORT=0 tsx tests/bench/http-floor-server.ts
 * Prints `server: <url>` once listening (the line spawnServer waits for); SIGTERM or SIGINT close
 * the listener, then the pool, and exit 0.
 *
 * Answers: 200 `{ outcome: 'paid' }`; 404 `not_found` (no such order of FLOOR_USER_ID's); 409
 * `not_claimable` (already paid or a claim in flight: nothing was written) or `settle_missed`;
 * 400 for a body that is not `{ orderId: <uuid> }`; 503 `unavailable` when the database fails
 * (retryable: the provider is a stub, no money moves here).
 */
import { parseArgs } from 'node:util';
import { createDb, DEFAULT_POOL_SIZE } from '@chargeonce/db';
import Fastify from 'fastify';
import { type FloorOutcome, floorAttempt } from './floor';

const USAGE = 'usage: DATABASE_URL=... FLOOR_USER_ID=<uuid> [PORT=0] tsx tests/bench/http-floor-server.ts';

const STATUS: Record<FloorOutcome, number> = {
  paid: 200,
  not_found: 404,
  not_claimable: 409,
  settle_missed: 409,
};

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const payBody = {
  type: 'object',
  required: ['orderId'],
  additionalProperties: false,
  properties: { orderId: { type: 'string', pattern: UUID } },
} as const;

function config(env: NodeJS.ProcessEnv): { databaseUrl: string; userId: string; port: number } {
  const { values } = parseArgs({ options: { help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = Number(env.PORT ?? '0');
  if (!env.DATABASE_URL || !env.FLOOR_USER_ID || !new RegExp(UUID).test(env.FLOOR_USER_ID))
    throw new Error(`DATABASE_URL and FLOOR_USER_ID (a uuid) are required\n${USAGE}`);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be 0-65535\n${USAGE}`);
  return { databaseUrl: env.DATABASE_URL, userId: env.FLOOR_USER_ID, port };
}

async function main(): Promise<void> {
  const { databaseUrl, userId, port } = config(process.env);
  const db = createDb(databaseUrl, { max: DEFAULT_POOL_SIZE, applicationName: 'chargeonce-http-floor' });
  const app = Fastify({ logger: false });
  app.setErrorHandler((err: { statusCode?: number }, _request, reply) => {
    // fastify's own 4xx (body validation, bad JSON) as they are; anything else is the database.
    const code = err.statusCode ?? 500;
    if (code < 500) return reply.code(code).send(err);
    return reply.code(503).send({ outcome: 'unavailable' });
  });
  app.post<{ Body: { orderId: string } }>('/pay', { schema: { body: payBody } }, async (request, reply) => {
    const outcome = await floorAttempt(db.db, userId, request.body.orderId);
    return reply.code(STATUS[outcome]).send({ outcome });
  });
  const close = async () => {
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  const url = await app.listen({ host: '127.0.0.1', port });
  console.log(`server: ${url}`);
}

main().catch((err: unknown) => {
  console.error('http floor failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
