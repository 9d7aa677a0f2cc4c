import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  childOk,
  copyPackage,
  isRoot,
  makePrivateCheckout,
  onCleanup,
  openTempDir,
  privateTempDir,
  runChild,
  setLibraryAliases,
} from './support';

const execFileAsync = promisify(execFile);

describe('startEmbeddedPostgres run by root', () => {
  it.skipIf(!isRoot)(
    'as root: runs from a private checkout (binaries copied once, race-safe; data kept in a reachable place)',
    async () => {
      // a checkout inside /root (0700), with its own node_modules: the postgres user reaches none of it
      const priv = await privateTempDir(os.homedir(), 'chargeonce-private-checkout-');
      expect((await fs.stat(priv)).mode & 0o077).toBe(0);
      // as installed from a cold pnpm store: the library aliases are symlinks, which the copy must keep
      const { moduleCopy, platformCopy } = await makePrivateCheckout(priv);

      // a fresh cache, so the copy of the binaries and the template are made here, by two processes at once
      const tmp = await openTempDir('tmpdir');
      const env = { TMPDIR: tmp };
      const ephemeral = await Promise.all(
        [1, 2].map((n) =>
          childOk(
            runChild(
              {
                module: moduleCopy,
                dataDir: path.join(priv, '.data', `test-${n}`),
                persistent: false,
                sql: [`select ${n} as n`],
              },
              { env },
            ),
          ),
        ),
      );
      for (const [i, result] of ephemeral.entries()) {
        expect(result.results).toEqual([[{ n: i + 1 }]]);
        expect(result.dataDir?.startsWith(`${tmp}/`)).toBe(true);
        expect(existsSync(result.dataDir ?? '')).toBe(false);
      }
      const cacheEntries = (await fs.readdir(tmp)).filter((name) => name.startsWith('chargeonce-pg-'));
      expect(cacheEntries).toHaveLength(1);
      const native = path.join(tmp, cacheEntries[0] ?? '', 'native');
      const libpq = path.join(native, 'lib', 'libpq.so');
      expect((await fs.lstat(libpq)).isSymbolicLink()).toBe(true);
      expect(await fs.readlink(libpq)).toBe(
        await fs.readlink(path.join(platformCopy, 'native', 'lib', 'libpq.so')),
      );
      expect((await fs.stat(path.join(native, 'bin', 'postgres'))).mode & 0o005).toBe(0o005);
      expect((await fs.stat(path.join(native, 'bin', 'pg_ctl'))).mode & 0o005).toBe(0o005);
      // no leftovers of the race: only the finished copy, the template and the clusters directory
      expect((await fs.readdir(path.join(tmp, cacheEntries[0] ?? ''))).sort()).toEqual(
        expect.arrayContaining(['clusters', 'native']),
      );
      expect(
        (await fs.readdir(path.join(tmp, cacheEntries[0] ?? ''))).filter((n) => /tmp|old|pwfile/.test(n)),
      ).toEqual([]);

      // the same checkout installed again from a warm pnpm store (aliases now plain files): the copy is the
      // same PostgreSQL and is used as it is, not replaced under servers that may be running from it
      const nativeInode = (await fs.stat(native)).ino;
      await setLibraryAliases(platformCopy, 'files');
      const reused = await childOk(
        runChild(
          {
            module: moduleCopy,
            dataDir: path.join(priv, '.data', 'test-3'),
            persistent: false,
            sql: ['select 3 as n'],
          },
          { env },
        ),
      );
      expect(reused.results).toEqual([[{ n: 3 }]]);
      expect((await fs.stat(native)).ino).toBe(nativeInode);
      expect((await fs.lstat(libpq)).isSymbolicLink()).toBe(true);

      // persistent: kept under /var/lib/chargeonce, with a pointer left where it was asked for
      const dataDir = path.join(priv, '.data', 'postgres');
      const first = await childOk(
        runChild(
          {
            module: moduleCopy,
            dataDir,
            persistent: true,
            sql: ['create table kept (v text)', "insert into kept values ('x')"],
          },
          { env },
        ),
      );
      const relocated = first.dataDir ?? '';
      onCleanup(async () => {
        await fs.rm(relocated, { recursive: true, force: true });
        await fs.rm(`${relocated}.source`, { force: true });
      });
      expect(relocated).toMatch(/^\/var\/lib\/chargeonce\/[0-9a-f]{16}$/);
      expect(await fs.readFile(path.join(dataDir, 'LOCATION.txt'), 'utf8')).toContain(relocated);
      const second = await childOk(
        runChild({ module: moduleCopy, dataDir, persistent: true, sql: ['select v from kept'] }, { env }),
      );
      expect(second.dataDir).toBe(relocated);
      expect(second.results).toEqual([[{ v: 'x' }]]);

      // deleting the requested directory resets the database
      await fs.rm(dataDir, { recursive: true });
      const third = await childOk(
        runChild(
          { module: moduleCopy, dataDir, persistent: true, sql: ["select to_regclass('kept')::text as t"] },
          { env },
        ),
      );
      expect(third.dataDir).toBe(relocated);
      expect(third.results).toEqual([[{ t: null }]]);

      // a relocated cluster whose requested directory is gone for good is swept by a later start
      await fs.rm(dataDir, { recursive: true });
      const sidecar = `${relocated}.source`;
      expect(await fs.readFile(sidecar, 'utf8')).toBe(`${dataDir}\n`);
      const longAgo = new Date(Date.now() - 3_600_000);
      await fs.utimes(sidecar, longAgo, longAgo);
      const other = await openTempDir('sweep');
      await childOk(runChild({ dataDir: path.join(other, 'pg'), persistent: false }, { env }));
      expect(existsSync(relocated)).toBe(false);
      expect(existsSync(sidecar)).toBe(false);
    },
    180_000,
  );

  it.skipIf(!isRoot || !existsSync('/usr/sbin/runuser'))(
    'works as a normal user (run as nobody): no chown, binaries straight from node_modules',
    async () => {
      // a checkout in nobody's own (private) home: the checkout these tests run from may sit where nobody
      // cannot read it (a CI clone in a mkdtemp directory, one under /root), so the child runs from a copy
      // of this package, with its node_modules, that nobody owns
      const base = await privateTempDir(os.tmpdir(), 'chargeonce-embedded-nobody-');
      const nobody = { uid: 65534, gid: 65534 };
      const checkout = await copyPackage(path.join(base, 'checkout'));
      const tmp = path.join(base, 'tmp');
      await fs.mkdir(tmp);
      await execFileAsync('chown', ['-R', `${nobody.uid}:${nobody.gid}`, base]);
      const env = { TMPDIR: tmp, HOME: base };
      const dataDir = path.join(base, 'data', 'pg');
      const ephemeral = await childOk(
        runChild(
          { dataDir, persistent: false, sql: ['select current_user as u'] },
          { env, asUser: 'nobody', packageCopy: checkout },
        ),
      );
      expect(ephemeral.dataDir).toBe(dataDir);
      expect(ephemeral.results).toEqual([[{ u: 'postgres' }]]);
      expect(existsSync(dataDir)).toBe(false);

      const persistent = await childOk(
        runChild(
          { dataDir, persistent: true, sql: ['select 1 as one'] },
          { env, asUser: 'nobody', packageCopy: checkout },
        ),
      );
      expect(persistent.dataDir).toBe(dataDir);
      expect((await fs.stat(dataDir)).uid).toBe(nobody.uid);
      // its cache holds the template cluster but no copy of the binaries: they ran from node_modules
      const cacheEntries = (await fs.readdir(tmp)).filter((name) => name.startsWith('chargeonce-pg-'));
      expect(cacheEntries).toEqual([expect.stringMatching(/-u65534$/)]);
      const cacheDir = path.join(tmp, cacheEntries[0] ?? '');
      expect((await fs.stat(cacheDir)).uid).toBe(nobody.uid);
      expect(await fs.readdir(cacheDir)).not.toContain('native');
    },
    120_000,
  );
});
