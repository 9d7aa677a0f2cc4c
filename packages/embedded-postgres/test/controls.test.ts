import { existsSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { processesIn } from '../src/proc';
import { canConnect, childOk, isAlive, openTempDir, postmasterPid, query, runChild, start } from './support';

const rows = (url: string) => query<{ v: number }>(url, 'select v from kept order by v');

/** Inserts into `kept` one row at a time until its connection dies; `acknowledged()`: the last committed. */
function writeUntilCrash(url: string) {
  const writer = postgres(url, { max: 1, onnotice: () => {} });
  let acknowledged = 0;
  const done = (async () => {
    for (let v = 1; ; v++) {
      await writer`insert into kept values (${v})`;
      acknowledged = v;
    }
  })().catch(async (err: unknown) => {
    await writer.end({ timeout: 1 });
    return err;
  });
  return { acknowledged: () => acknowledged, done };
}

describe('a started server crashed, shut down and started again', () => {
  it('restart({ mode: "immediate" }): a crash and its recovery on the same port, committed rows kept', async () => {
    const base = await openTempDir('restart');
    const lines: string[] = [];
    const pg = await start({
      dataDir: path.join(base, 'pg'),
      persistent: false,
      crashSafe: true,
      onLog: (line) => lines.push(line),
    });
    expect(await query(pg.url, "select current_setting('synchronous_commit') as s")).toEqual([{ s: 'on' }]);
    await query(pg.url, 'create table kept (v int); insert into kept values (1), (2)');
    const before = pg.pid;
    expect(before).toBe(await postmasterPid(pg.dataDir));

    // a client that holds a connection across the crash loses it, and can connect again after
    const client = postgres(pg.url, { max: 1, onnotice: () => {} });
    await client`select 1`;
    await pg.restart({ mode: 'immediate' });
    expect(isAlive(before!)).toBe(false);
    expect(pg.pid).not.toBe(before);
    expect(pg.pid).toBe(await postmasterPid(pg.dataDir));
    expect(await rows(pg.url)).toEqual([{ v: 1 }, { v: 2 }]);
    // the crash: the next start replayed the WAL
    expect(lines.some((line) => /not properly shut down|automatic recovery in progress/.test(line))).toBe(
      true,
    );
    await expect(client`select 1`.then(() => 'reconnected')).resolves.toBe('reconnected');
    await client.end({ timeout: 5 });

    // a fast restart is a clean one
    await pg.restart();
    expect(await rows(pg.url)).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it('kill() then start(): down until started, then back on the same port with every acknowledged commit', async () => {
    const base = await openTempDir('kill');
    const pg = await start({ dataDir: path.join(base, 'pg'), persistent: false, crashSafe: true });
    await query(pg.url, 'create table kept (v int)');
    // commits right up to the kill, each acknowledged before the next
    const writer = writeUntilCrash(pg.url);
    await expect.poll(writer.acknowledged, { timeout: 10_000 }).toBeGreaterThan(200);
    const killed = pg.pid!;
    await pg.kill();
    // the writer's connection died with the server: it was told so, not left hanging
    expect(await writer.done).toBeInstanceOf(Error);
    const acknowledged = writer.acknowledged();
    expect(isAlive(killed)).toBe(false);
    expect(pg.pid).toBeUndefined();
    expect(await canConnect(pg.url)).toBe(false);
    await pg.kill(); // no-op while down

    await pg.start();
    expect(pg.pid).toBeGreaterThan(0);
    expect(pg.pid).not.toBe(killed);
    const kept = await rows(pg.url);
    // every acknowledged commit survived (one in flight at the kill may have committed too)
    expect(kept.length).toBeGreaterThanOrEqual(acknowledged);
    expect(kept.slice(0, acknowledged)).toEqual(
      Array.from({ length: acknowledged }, (_, i) => ({ v: i + 1 })),
    );
    await pg.start(); // no-op while it runs
    expect(await query(pg.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('without crashSafe (the default for ephemeral clusters) a crash loses acknowledged commits', async () => {
    const base = await openTempDir('unsafe');
    const pg = await start({ dataDir: path.join(base, 'pg'), persistent: false });
    await query(pg.url, 'create table kept (v int)');
    const writer = writeUntilCrash(pg.url);
    await expect.poll(writer.acknowledged, { timeout: 10_000 }).toBeGreaterThan(200);
    await pg.restart({ mode: 'immediate' });
    await writer.done;
    // even the table can be gone: its creation was acknowledged before it reached the WAL on disk
    // (asked apart: a statement naming a missing table fails at parse time, whatever its CASE says)
    const [table] = await query<{ present: boolean }>(
      pg.url,
      "select to_regclass('kept') is not null as present",
    );
    const [left] = table!.present
      ? await query<{ n: number }>(pg.url, 'select count(*)::int as n from kept')
      : [{ n: 0 }];
    expect(left!.n).toBeLessThan(writer.acknowledged());
  });

  it('shutdown() keeps the cluster until start(); stop() while down leaves no process and no cluster', async () => {
    const base = await openTempDir('shutdown');
    const pg = await start({ dataDir: path.join(base, 'pg'), persistent: false });
    await query(pg.url, 'create table kept (v int); insert into kept values (3)');
    await pg.shutdown();
    expect(pg.pid).toBeUndefined();
    expect(await canConnect(pg.url)).toBe(false);
    await pg.start();
    expect(await rows(pg.url)).toEqual([{ v: 3 }]);

    await pg.kill();
    await pg.stop();
    expect(await processesIn(pg.dataDir)).toEqual([]);
    expect(existsSync(pg.dataDir)).toBe(false);
    await expect(pg.start()).rejects.toThrow(/after stop/);
    await expect(pg.restart()).rejects.toThrow(/after stop/);
  });

  it('operations run in call order: a kill() and a start() fired together end with a server', async () => {
    const base = await openTempDir('order');
    const pg = await start({ dataDir: path.join(base, 'pg'), persistent: false });
    const first = pg.pid;
    await Promise.all([pg.kill(), pg.start(), pg.restart({ mode: 'immediate' })]);
    expect(pg.pid).not.toBe(first);
    expect(await query(pg.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it.each(['restart', 'kill'] as const)(
    'after a crash (%s) the watchdog follows the new server: it does not outlive its SIGKILLed owner',
    async (crash) => {
      const base = await openTempDir(`watchdog-${crash}`);
      const owner = runChild({ dataDir: path.join(base, 'pg'), persistent: false, hold: true, crash });
      const started = await childOk(owner, true);
      const serverPid = started.pid!;
      expect(serverPid).toBe(await postmasterPid(started.dataDir!));
      owner.process.kill('SIGKILL');
      await owner.exited;
      await expect.poll(() => isAlive(serverPid), { timeout: 15_000 }).toBe(false);
      await expect.poll(() => existsSync(started.dataDir!), { timeout: 15_000 }).toBe(false);
    },
  );
});
