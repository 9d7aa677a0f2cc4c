import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/index';
import {
  canConnect,
  childOk,
  getFreePort,
  isAlive,
  isRoot,
  onCleanup,
  openTempDir,
  postmasterPid,
  privateTempDir,
  processGroup,
  query,
  runChild,
  start,
} from './support';

describe('startEmbeddedPostgres', () => {
  it('starts an ephemeral server, serves queries, and removes everything on stop', async () => {
    const base = await openTempDir('ephemeral');
    const dataDir = path.join(base, 'checkout', '.data', 'postgres');
    const lines: string[] = [];
    const started = performance.now();
    const pg = await start({ dataDir, persistent: false, onLog: (line) => lines.push(line) });
    console.log(`ephemeral start: ${Math.round(performance.now() - started)} ms`);

    // a checkout-like path that everyone can traverse is used as is (as root: owned by the postgres user)
    expect(pg.dataDir).toBe(dataDir);
    if (isRoot) expect((await fs.stat(dataDir)).uid).not.toBe(0);
    expect(pg.port).toBeGreaterThan(0);
    expect(pg.url).toBe(`postgres://postgres:postgres@127.0.0.1:${pg.port}/chargeonce`);
    expect(lines.some((line) => line.includes('ready to accept connections'))).toBe(true);

    const [row] = await query<{ db: string; max: string; listen: string; fsync: string }>(
      pg.url,
      `select current_database() as db, current_setting('max_connections') as max,
              current_setting('listen_addresses') as listen, current_setting('fsync') as fsync`,
    );
    expect(row).toEqual({ db: 'chargeonce', max: expect.any(String), listen: '127.0.0.1', fsync: 'off' });
    expect(Number(row?.max)).toBeGreaterThanOrEqual(200);
    // password authentication is on: a wrong password is refused
    await expect(query(pg.url.replace(':postgres@', ':wrong@'), 'select 1')).rejects.toThrow(/password/);

    const pid = await postmasterPid(pg.dataDir);
    expect(isAlive(pid)).toBe(true);
    await pg.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    await pg.stop(); // idempotent
    expect(await canConnect(pg.url)).toBe(false);
  }, 60_000);

  it('keeps an ephemeral cluster in a reachable place when the requested one is private (mkdtemp)', async () => {
    // what a test helper does: mkdtemp (0700, owned by us) then a subdirectory
    const privateBase = await privateTempDir(os.tmpdir(), 'chargeonce-embedded-private-');
    const dataDir = path.join(privateBase, 'pg');
    const pg = await start({ dataDir, persistent: false, port: 0 });
    if (isRoot) expect(pg.dataDir).not.toBe(dataDir);
    else expect(pg.dataDir).toBe(dataDir);
    expect(await query(pg.url, 'select 40 + 2 as answer')).toEqual([{ answer: 42 }]);
    await pg.stop();
    expect(existsSync(pg.dataDir)).toBe(false);
  }, 60_000);

  it('creates the requested database and uses a fixed port', async () => {
    const base = await openTempDir('db');
    const port = await getFreePort();
    const pg = await start({
      dataDir: path.join(base, 'pg'),
      persistent: false,
      port,
      database: 'other_db-2',
    });
    expect(pg.port).toBe(port);
    expect(pg.url).toBe(`postgres://postgres:postgres@127.0.0.1:${port}/other_db-2`);
    expect(await query(pg.url, 'select current_database() as db')).toEqual([{ db: 'other_db-2' }]);
    // names that would need escaping in the URL are refused up front
    await expect(startEmbeddedPostgres({ dataDir: path.join(base, 'x'), database: 'a b' })).rejects.toThrow(
      /database name/,
    );
  }, 60_000);

  it('keeps data across restarts of a persistent cluster without re-initialising it', async () => {
    const base = await openTempDir('persistent');
    const dataDir = path.join(base, '.data', 'postgres');
    let started = performance.now();
    const first = await start({ dataDir, port: 0 });
    console.log(`persistent first start (initdb): ${Math.round(performance.now() - started)} ms`);
    expect(first.dataDir).toBe(dataDir);
    expect(await query(first.url, `select current_setting('fsync') as fsync`)).toEqual([{ fsync: 'on' }]);
    await query(first.url, 'create table kept (v text)');
    await query(first.url, `insert into kept values ('hello')`);
    const [before] = await query<{ id: string }>(
      first.url,
      'select system_identifier::text as id from pg_control_system()',
    );
    expect(before?.id).toMatch(/^\d+$/);
    await first.stop();
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);

    started = performance.now();
    const second = await start({ dataDir });
    console.log(`persistent restart: ${Math.round(performance.now() - started)} ms`);
    const [after] = await query<{ id: string }>(
      second.url,
      'select system_identifier::text as id from pg_control_system()',
    );
    expect(after?.id).toBe(before?.id); // same cluster, not a new initdb
    expect(await query(second.url, 'select v from kept')).toEqual([{ v: 'hello' }]);
    await second.stop();
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
  }, 60_000);

  it('refuses a second server on a data directory that is in use', async () => {
    const base = await openTempDir('in-use');
    const dataDir = path.join(base, 'pg');
    const pg = await start({ dataDir });
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already running/);
    expect(await canConnect(pg.url)).toBe(true);
  }, 60_000);

  it('rejects with the server log when the port is taken, and cleans up', async () => {
    const base = await openTempDir('port-taken');
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => holder.close(resolve)));
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dataDir = path.join(base, 'pg');

    const failure = startEmbeddedPostgres({ dataDir, persistent: false, port });
    await expect(failure).rejects.toThrow(/PostgreSQL exited during startup/);
    await expect(failure).rejects.toThrow(/Address already in use|could not bind/);
    // it names the data directory
    await expect(failure).rejects.toThrow(`with data directory ${dataDir}`);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('runs the server in a process group of its own: a Ctrl-C on its owner does not reach it', async () => {
    const base = await openTempDir('ctrl-c');
    const dataDir = path.join(base, 'pg');
    // the owner leads its process group, as a command started from a terminal does
    const owner = runChild({ dataDir, persistent: true, hold: true }, { ownGroup: true });
    const started = await childOk(owner, true);
    const ownerPid = owner.process.pid ?? 0;
    const serverPid = await postmasterPid(started.dataDir ?? dataDir);
    expect(processGroup(ownerPid)).toBe(ownerPid);
    expect(processGroup(serverPid)).not.toBe(ownerPid);

    // Ctrl-C: the terminal sends SIGINT to its whole foreground process group
    process.kill(-ownerPid, 'SIGINT');
    expect(await owner.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(isAlive(serverPid)).toBe(true);
    expect(await canConnect(started.url ?? '')).toBe(true);

    // its owner is gone without stop(): the next start takes the cluster back
    const pg = await start({ dataDir });
    expect(isAlive(serverPid)).toBe(false);
    expect(await canConnect(pg.url)).toBe(true);
  }, 60_000);
});
