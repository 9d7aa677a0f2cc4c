import { expect, it } from 'vitest';
import { runScript } from '../support/processes';

it('pnpm race prints the outcome summary as its last line and exits 0 on one charge', async () => {
  const run = await runScript('tests/race/race.ts', ['--', '--clicks', '30', '--instances', '2', '--json']);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(run.lastLine)).toEqual({
    op: 'pay',
    clicks: 30,
    instances: 2,
    charged: 1,
    already_paid: 29,
    declined: 0,
    other: 0,
    provider_payment_intents: 1,
    order_status: 'paid',
  });
});

it('pnpm race with a declining card: one PaymentIntent, every caller told the typed decline', async () => {
  const run = await runScript('tests/race/race.ts', [
    '--',
    '--clicks',
    '30',
    '--instances',
    '2',
    '--card',
    'pm_card_chargeDeclined',
    '--json',
  ]);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(run.lastLine)).toMatchObject({
    clicks: 30,
    charged: 0,
    already_paid: 0,
    declined: 30,
    other: 0,
    provider_payment_intents: 1,
    order_status: 'failed',
  });
});

it('pnpm race --op create: one key over many concurrent creates makes one order, every other call a replay', async () => {
  const run = await runScript('tests/race/race.ts', [
    '--',
    '--op',
    'create',
    '--clicks',
    '40',
    '--instances',
    '2',
    '--json',
  ]);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.lastLine).toBe(
    '{"op":"create","clicks":40,"instances":2,"orders_created":1,"replayed":39,"other":0}',
  );
});
