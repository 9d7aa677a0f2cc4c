import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUserWithToken, type Database, findUserByToken, generateToken } from '@chargeonce/db';

/**
 * The demo user's token is kept in `<dataDir>/demo-token` (mode 0600) so it survives restarts; only
 * its hash is in the database.
 */
export async function ensureDemoUser(db: Database, dataDir: string): Promise<string> {
  const file = join(dataDir, 'demo-token');
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch {
    token = generateToken();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  if (!(await findUserByToken(db, token)))
    await createUserWithToken(db, { name: 'Demo user', token, label: 'demo' });
  return token;
}
