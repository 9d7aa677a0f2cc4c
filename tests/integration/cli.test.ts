import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../support/processes';

/**
 * Every command-line tool of the repository answers `--help` with its usage and exit 0 having done
 * nothing, and an unknown flag with the usage on stderr and exit 2, never a stack trace; both also
 * after the `--` that `pnpm <script> -- ...` passes through.
 */
const TOOLS: Array<[string, string]> = [
  ['race', 'tests/race/race.ts'],
  ['bench', 'tests/bench/main.ts'],
  ['chaos', 'tests/chaos/main.ts'],
  ['recover', 'apps/server/src/cli/recover.ts'],
  ['reconcile', 'apps/server/src/cli/reconcile.ts'],
  ['db:migrate', 'packages/db/src/cli/migrate.ts'],
  ['admin', 'apps/server/src/cli/admin.ts'],
  ['stripe emulator', 'packages/stripe-emulator/src/cli.ts'],
];

// Nothing configured: a tool that did live work would start PostgreSQL under here or fail to connect.
const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-cli-'));
const env = { CHARGEONCE_DATA_DIR: dataDir, DATABASE_URL: '', STRIPE_SECRET_KEY: '' };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const STACK_FRAME = /\n\s+at .+[:(]/;

describe.each(TOOLS)('%s', (_name, script) => {
  it('--help prints the usage and exits 0 having done nothing', async () => {
    for (const args of [['--help'], ['--', '--help']]) {
      const run = await runScript(script, args, env);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^usage: /);
    }
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('an unknown flag prints the usage on stderr and exits 2, without a stack trace', async () => {
    const run = await runScript(script, ['--', '--no-such-flag'], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no-such-flag/);
    expect(run.stderr).toMatch(/usage: /);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
