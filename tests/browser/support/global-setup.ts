import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from './chromium';

// Not from support/processes: vitest's global-setup runner has no import.meta.resolve.
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Fails early, with the fix in the message, when a prerequisite is missing. The web client is
 * normally built by turbo before this task; run directly (vitest in tests/), it is built here.
 */
export default function setup(): void {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  if (!existsSync(join(REPO_ROOT, 'apps', 'web', 'dist', 'index.html'))) {
    execFileSync('pnpm', ['--filter', '@chargeonce/web', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
}
