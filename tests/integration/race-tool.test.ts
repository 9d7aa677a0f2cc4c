import { expect, it } from 'vitest';
import { runScript } from '../support/processes';

it('pnpm race prints the outcome summary as its last line and exits 0 on one charge', async () => {
  const run = await runScript('tests/race/race.ts', ['--', '--clicks', '30', '--instances', '2', '--json']);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(run.lastLine)).toEqual({
    clicks: 30,
    instances: 2,
    charged: 1,
    already_paid: 29,
    other: 0,
    provider_payment_intents: 1,
    order_status: 'paid',
  });
});
