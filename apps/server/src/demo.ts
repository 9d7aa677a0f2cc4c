import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createUserWithToken,
  type Database,
  findToken,
  findUserByToken,
  generateToken,
} from '@chargeonce/db';

/**
 * The demo user's token is kept in `<dataDir>/demo-token` (mode 0600) so it survives restarts; only
 * its hash is in the database.
 */
export async function ensureDemoUser(db: Database, dataDir: string): Promise<string> {
  const file = join(dataDir, 'demo-token');
  const save = (token: string) => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return token;
  };
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch {
    token = save(generateToken());
  }
  if (await findUserByToken(db, token)) return token;
  // Revoked or expired (an operator ended a leaked demo token): a new one; unknown: made here.
  if (await findToken(db, token)) token = save(generateToken());
  await createUserWithToken(db, { name: 'Demo user', token, label: 'demo' });
  return token;
}
