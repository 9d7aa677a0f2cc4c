import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/index';
import {
  canConnect,
  childOk,
  isAlive,
  openTempDir,
  postmasterPid,
  query,
  runChild,
  start,
  trackChild,
} from './support';

describe('startEmbeddedPostgres after its owner died', () => {
  it('recovers a cluster whose owner process was SIGKILLed, with its data', async () => {
    const base = await openTempDir('sigkill');
    const dataDir = path.join(base, '.data', 'postgres');
    const owner = runChild({
      dataDir,
      persistent: true,
      hold: true,
      sql: ['create table survived (v int)', 'insert into survived values (7)'],
    });
    const before = await childOk(owner, true);
    const orphanPid = await postmasterPid(before.dataDir ?? dataDir);
    owner.process.kill('SIGKILL');
    expect(await owner.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // the server outlives its owner: this is what used to break the next start
    expect(isAlive(orphanPid)).toBe(true);
    expect(await canConnect(before.url ?? '')).toBe(true);

    const pg = await start({ dataDir, port: 0 });
    expect(pg.dataDir).toBe(before.dataDir);
    expect(isAlive(orphanPid)).toBe(false);
    expect(await query(pg.url, 'select v from survived')).toEqual([{ v: 7 }]);
  }, 60_000);

  it('never takes a cluster from a server whose owner process still runs', async () => {
    const base = await openTempDir('owner-alive');
    const dataDir = path.join(base, 'pg');
    const owner = runChild({ dataDir, persistent: true, hold: true, sql: ['create table mine (v int)'] });
    const started = await childOk(owner, true);
    const serverPid = await postmasterPid(started.dataDir ?? dataDir);

    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(
      `is in use by a server that process ${owner.process.pid} started and still runs`,
    );
    expect(isAlive(serverPid)).toBe(true);
    expect(await canConnect(started.url ?? '')).toBe(true);

    // once the owner is gone, the same start succeeds on the same cluster
    owner.process.kill('SIGKILL');
    await owner.exited;
    const pg = await start({ dataDir });
    expect(isAlive(serverPid)).toBe(false);
    expect(await query(pg.url, `select to_regclass('mine')::text as t`)).toEqual([{ t: 'mine' }]);
  }, 60_000);

  it('does not let an ephemeral server outlive its SIGKILLed owner', async () => {
    const base = await openTempDir('ephemeral-kill');
    const dataDir = path.join(base, 'pg');
    const owner = runChild({ dataDir, persistent: false, hold: true, sql: ['select 1'] });
    const started = await childOk(owner, true);
    const serverPid = await postmasterPid(started.dataDir ?? dataDir);
    owner.process.kill('SIGKILL');
    await owner.exited;
    // the orphaned ephemeral server stops, then its cluster is removed
    await expect.poll(() => isAlive(serverPid), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => existsSync(started.dataDir ?? dataDir), { timeout: 15_000 }).toBe(false);
  }, 60_000);

  it('removes a stale postmaster.pid whose pid is dead or belongs to another process', async () => {
    const base = await openTempDir('stale-pid');
    const dataDir = path.join(base, 'pg');
    const first = await start({ dataDir });
    await query(first.url, 'create table t (v int)');
    await query(first.url, 'insert into t values (1)');
    const pidFileText = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
    await first.stop();

    // a pid that no longer exists
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = gone.pid ?? 0;
    await new Promise((resolve) => gone.once('exit', resolve));
    await fs.writeFile(path.join(dataDir, 'postmaster.pid'), pidFileText.replace(/^\d+/, String(deadPid)));
    const second = await start({ dataDir });
    expect(await query(second.url, 'select v from t')).toEqual([{ v: 1 }]);
    await second.stop();

    // a pid recycled by an unrelated live process: it must be left alone
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
    trackChild(bystander);
    const bystanderPid = bystander.pid ?? 0;
    await fs.writeFile(
      path.join(dataDir, 'postmaster.pid'),
      pidFileText.replace(/^\d+/, String(bystanderPid)),
    );
    const third = await start({ dataDir });
    expect(await query(third.url, 'select v from t')).toEqual([{ v: 1 }]);
    expect(isAlive(bystanderPid)).toBe(true);
    bystander.kill('SIGKILL');
  }, 60_000);
});
