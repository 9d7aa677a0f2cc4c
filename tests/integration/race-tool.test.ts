import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes';

it('pnpm race prints the outcome summary as its last line and exits 0 on one charge', async () => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      'tests/race/race.ts',
      '--',
      '--clicks',
      '30',
      '--instances',
      '2',
      '--json',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(lastLine)).toEqual({
    clicks: 30,
    instances: 2,
    charged: 1,
    already_paid: 29,
    other: 0,
    provider_payment_intents: 1,
    order_status: 'paid',
  });
});
