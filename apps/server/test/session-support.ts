import { PassThrough } from 'node:stream';
import { createTokenAuthenticator } from '@chargeonce/api';
import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { createStripeGateway } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildServer } from '../src/app';

/**
 * A server for the web-session tests of one file (cookies and headers are what only HTTP shows),
 * against real PostgreSQL with the real migrations and the Stripe emulator behind the payments
 * deps; started before the file's tests, stopped after. Every answer and log line is kept, and
 * every token a test handled, for the check that no token value ever leaves the server.
 */
export const ORDER = { amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' };

export function useSessionServer(options: { ttlMs?: number } = {}) {
  let database: TestDatabase;
  let handle: DbHandle;
  let emulator: StripeEmulator;
  let app: FastifyInstance;
  const logLines: string[] = [];
  const secrets = new Set<string>();
  const responses: string[] = [];

  beforeAll(async () => {
    database = await startTestDatabase();
    handle = createDb(database.url, { max: 4 });
    emulator = await startStripeEmulator();
    const logStream = new PassThrough();
    logStream.setEncoding('utf8');
    logStream.on('data', (chunk: string) => logLines.push(chunk));
    const db = handle.db;
    app = await buildServer(
      {
        db,
        auth: createTokenAuthenticator(db),
        payments: {
          db,
          gateway: createStripeGateway({
            secretKey: EMULATOR_SECRET_KEY,
            apiBase: emulator.url,
            maxNetworkRetries: 0,
          }),
          instanceId: 'session-test',
        },
      },
      // Generous: the failed-auth limit is not what these tests are about.
      {
        logLevel: 'info',
        logStream,
        authFailuresPerMinute: 1000,
        ...(options.ttlMs ? { session: { ttlMs: options.ttlMs } } : {}),
      },
    );
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await handle?.close();
    await emulator?.close();
    await database?.stop();
  });

  /** Every answer is kept, headers included, for the no-token-in-responses check. */
  async function call(options: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await app.inject(options);
    const { 'set-cookie': _cookies, ...headers } = res.headers;
    responses.push(`${JSON.stringify(headers)}\n${res.body}`);
    return res;
  }

  async function newUser() {
    const user = await createUserWithToken(handle.db, { name: 'web user' });
    secrets.add(user.token);
    return user;
  }

  function setCookies(res: LightMyRequestResponse): SetCookie[] {
    const header = res.headers['set-cookie'];
    const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
    return lines.map((line) => {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes: attributes.sort() };
    });
  }

  async function signIn(token: string, cookie?: string): Promise<Session> {
    const res = await call({
      method: 'POST',
      url: '/session',
      payload: { token },
      ...(cookie ? { headers: { cookie } } : {}),
    });
    expect(res.statusCode).toBe(200);
    const cookies = setCookies(res);
    const session = cookies.find((c) => c.name === 'co_session')!.value;
    const csrf = cookies.find((c) => c.name === 'co_csrf')!.value;
    secrets.add(session);
    return {
      userId: res.json<{ userId: string }>().userId,
      session,
      csrf,
      cookie: `co_session=${session}; co_csrf=${csrf}`,
    };
  }

  const createOrder = (headers: Record<string, string>) =>
    call({ method: 'POST', url: '/trpc/orders.create', headers, payload: ORDER });

  const listOrders = (headers: Record<string, string>) =>
    call({ method: 'GET', url: '/trpc/orders.list', headers });

  const ordersOf = async (userId: string) =>
    Number((await handle.sql`select count(*)::int as n from orders where user_id = ${userId}`)[0]!.n);

  return {
    get handle() {
      return handle;
    },
    call,
    newUser,
    setCookies,
    signIn,
    createOrder,
    listOrders,
    ordersOf,
    secrets,
    responses,
    logLines,
  };
}

export interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
}

export interface Session {
  userId: string;
  session: string;
  csrf: string;
  /** The `cookie` request header a browser would send. */
  cookie: string;
}
