import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type DbHandle, findToken, findUserByToken, revokeToken } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoUser } from '../src/demo';

let database: TestDatabase;
let handle: DbHandle;
const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-demo-'));
beforeAll(async () => {
  database = await startTestDatabase();
  handle = createDb(database.url, { max: 2 });
});
afterAll(async () => {
  await handle?.close();
  await database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo user', () => {
  it('keeps its token across starts, and gets a new one once the old is revoked', async () => {
    const first = await ensureDemoUser(handle.db, dataDir);
    expect(await ensureDemoUser(handle.db, dataDir)).toBe(first);
    expect(readFileSync(join(dataDir, 'demo-token'), 'utf8').trim()).toBe(first);
    // An operator revokes a leaked demo token: the next start must still come up, with a new one.
    await revokeToken(handle.db, (await findToken(handle.db, first))!.tokenId);
    const second = await ensureDemoUser(handle.db, dataDir);
    expect(second).not.toBe(first);
    expect(readFileSync(join(dataDir, 'demo-token'), 'utf8').trim()).toBe(second);
    expect(await findUserByToken(handle.db, second)).toBeDefined();
    expect(await findUserByToken(handle.db, first)).toBeUndefined();
  });
});
