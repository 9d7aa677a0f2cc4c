import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb } from '../src/client';
import { startTestDatabase, type TestDatabase } from '../src/testing';

/**
 * The postgres.js 3.4.9 defects patched in `patches/postgres@3.4.9.patch`. Two turned a connection
 * lost at the wrong moment into an exception no caller could catch, which exits the server (the
 * chaos database-fault runs saw both): with the patch the statement fails with a typed connection
 * error (or succeeds on a new connection) and the process goes on; Vitest fails a run on any
 * uncaught exception or unhandled rejection, so a regression fails this file. The third let a
 * transaction whose connection closed go on: `begin()` rejected, but what its callback sent after
 * ran on the reconnected connection, outside any transaction, and answers were taken for other
 * queries' (this file's third test saw a `select` answered by a stray `COMMIT`, about once in 40).
 * The fourth left a transaction's rollback, written between a reset socket's 'error' and its
 * 'close', for the reconnected connection to answer: the connection hung (the fourth test); with
 * several hosts, it left a new connection's first statement cut off unsettled (the fifth).
 */

interface FaultProxy {
  url: string;
  /** Connections through the proxy, in the order they were opened. */
  links: { client: net.Socket; server: net.Socket }[];
  /** Set to cut the next connection whose client sends this text, answering `57P01` first. */
  cutOn?: string;
  /** Set to reset (TCP RST, no goodbye) the next connection whose client sends this text. */
  resetOn?: string;
  cuts: number;
  close(): Promise<void>;
}

/** The ErrorResponse `pg_terminate_backend` makes a backend send before it closes. */
function adminShutdown(): Buffer {
  const fields = Buffer.concat(
    [
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '57P01'],
      ['M', 'terminating connection due to administrator command'],
    ].map(([k, v]) => Buffer.from(`${k}${v}\0`)),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const proxy: FaultProxy = { url: '', links: [], cuts: 0, close: async () => {} };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    proxy.links.push({ client, server: upstream });
    client.on('data', (chunk) => {
      if (proxy.cutOn && chunk.includes(proxy.cutOn)) {
        proxy.cutOn = undefined;
        proxy.cuts += 1;
        client.end(adminShutdown());
        upstream.destroy();
        return;
      }
      if (proxy.resetOn && chunk.includes(proxy.resetOn)) {
        proxy.resetOn = undefined;
        proxy.cuts += 1;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.writable && client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.host = `127.0.0.1:${address.port}`;
  proxy.url = url.toString();
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const link of proxy.links) link.client.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

const closed = (socket: net.Socket) =>
  socket.closed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('postgres.js under connection faults (patched driver)', () => {
  let database: TestDatabase;
  let proxy: FaultProxy;

  beforeAll(async () => {
    database = await startTestDatabase();
    proxy = await startFaultProxy(database.url);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await database?.stop();
  });

  it('a connection cut while it fetches the array types fails or retries the statement, and nothing escapes', async () => {
    const { sql, close } = createDb(proxy.url, { max: 1 });
    try {
      proxy.cutOn = 'pg_catalog.pg_type';
      const first = await sql`select 1 as one`.then(
        (rows) => ({ rows }),
        (err: { code?: string }) => ({ code: err.code }),
      );
      expect(proxy.cuts).toBe(1);
      // Either answer is one a caller can act on; before the patch the process died here.
      if ('code' in first) expect(['57P01', 'CONNECTION_CLOSED']).toContain(first.code);
      else expect(first.rows).toEqual([{ one: 1 }]);
      // Let any dropped promise reach the unhandled-rejection check before the test ends.
      await new Promise((resolve) => setImmediate(resolve));
      // The pool opens a new connection and serves. (Array columns on a connection that missed the
      // types come back as text, which drizzle parses itself.)
      expect(await sql`select 2 as two`).toEqual([{ two: 2 }]);
    } finally {
      await close();
    }
  });

  it('a transaction whose connection closed under it is rejected as CONNECTION_CLOSED, and the pool serves on', async () => {
    const { sql, close } = createDb(proxy.url, { max: 1 });
    try {
      const outcome = sql
        .begin(async (tx) => {
          await tx`select 1`;
          const link = proxy.links.at(-1);
          if (!link) throw new Error('no connection went through the proxy');
          link.server.destroy();
          await closed(link.client);
          await new Promise((resolve) => setImmediate(resolve));
          // A transaction's connection is reserved: a small statement is written from
          // setImmediate, which before the patch found the socket gone and threw out of the timer
          // (so did the rollback that follows the failure).
          await tx`select 2`;
        })
        .then(
          () => 'committed',
          (err: { code?: string }) => err.code,
        );
      expect(await outcome).toBe('CONNECTION_CLOSED');
      // The pool serves on: the statement after may still meet the dead connection (rejected as
      // CONNECTION_CLOSED, which the service answers as a retryable 503); a retry gets a new one.
      const failures: (string | undefined)[] = [];
      let rows: unknown;
      for (let attempt = 0; attempt < 3 && rows === undefined; attempt++) {
        rows = await sql`select 3 as three`.catch((err: { code?: string }) => void failures.push(err.code));
      }
      expect(rows).toEqual([{ three: 3 }]);
      expect(
        failures.every((code) => code === 'CONNECTION_CLOSED'),
        failures.join(),
      ).toBe(true);
    } finally {
      await close();
    }
  });

  it('what a transaction sends after its connection closed is rejected, never run on the reconnected one', async () => {
    const { sql, close } = createDb(proxy.url, { max: 1 });
    try {
      await sql`create table if not exists driver_faults_probe (step text not null)`;
      let resume!: () => void;
      const reconnected = new Promise<void>((resolve) => {
        resume = resolve;
      });
      let late: Promise<unknown> | undefined;
      const outcome = sql
        .begin(async (tx) => {
          await tx`insert into driver_faults_probe values ('before the cut')`;
          const link = proxy.links.at(-1);
          if (!link) throw new Error('no connection went through the proxy');
          link.server.destroy();
          await closed(link.client);
          // The pool has opened its one connection again and served another query on it.
          await reconnected;
          late = tx`insert into driver_faults_probe values ('after the cut')`;
          await late;
        })
        .then(
          () => 'committed',
          (err: { code?: string }) => err.code,
        );
      expect(await outcome).toBe('CONNECTION_CLOSED');
      // The statement after may meet the dead connection once; a retry gets a new one.
      const three = () => sql`select 3 as three`;
      expect(await three().catch(three)).toEqual([{ three: 3 }]);
      resume();
      await vi.waitFor(() => expect(late).toBeDefined());
      expect(
        await late?.then(
          () => 'ran',
          (err: { code?: string }) => err.code,
        ),
      ).toBe('CONNECTION_CLOSED');
      // Neither insert is there: the first was in the transaction the cut ended, the second never
      // ran; and the pool's answers are its own.
      expect(await sql`select step from driver_faults_probe`).toEqual([]);
      expect(await sql`select 4 as four`).toEqual([{ four: 4 }]);
    } finally {
      await close();
    }
  });

  it('a transaction whose connection is reset fails, and its rollback does not take the reconnected connection', async () => {
    // A reset makes the socket emit 'error' before 'close': the failed statement is rejected at the
    // error, the callback's rollback is written while the socket still looks open, and before the
    // patch's second fix nothing settled it at the close, so on the reconnected connection it was
    // the statement waiting for an answer and every answer after was taken for the one before.
    const { sql, close } = createDb(proxy.url, { max: 1 });
    try {
      const cutsBefore = proxy.cuts;
      const outcome = sql
        .begin(async (tx) => {
          await tx`select 1`;
          proxy.resetOn = 'driver_faults_reset';
          await tx`select 'driver_faults_reset' as marker`;
        })
        .then(
          () => 'committed',
          (err: { code?: string }) => err.code,
        );
      expect(['ECONNRESET', 'CONNECTION_CLOSED']).toContain(await outcome);
      expect(proxy.cuts).toBe(cutsBefore + 1);
      // Each statement after gets its own answer, on a new connection (the old one had closed
      // before the transaction was rejected).
      for (const n of [5, 6, 7, 8, 9]) expect(await sql`select ${n}::int as n`).toEqual([{ n }]);
    } finally {
      await close();
    }
  });

  it('with several hosts, the first statement on a connection that is reset is rejected, never left waiting', async () => {
    // Until the answer to its first statement a new connection is still "connecting", and with
    // another host to try the driver's error path returned without settling anything: the statement
    // waited forever (before the patch's direct settle at the close).
    const { host } = new URL(proxy.url);
    const url = proxy.url.replace(host, `${host},${host}`);
    const { sql, close } = createDb(url, { max: 1 });
    try {
      proxy.resetOn = 'driver_faults_first';
      const first = await sql`select 'driver_faults_first' as marker`.then(
        () => 'answered',
        (err: { code?: string }) => err.code,
      );
      expect(['ECONNRESET', 'CONNECTION_CLOSED']).toContain(first);
      expect(proxy.resetOn).toBeUndefined();
      expect(await sql`select 10 as ten`).toEqual([{ ten: 10 }]);
    } finally {
      await close();
    }
  });
});
