import { TRPCClientError } from '@chargeonce/client';
import { describe, expect, it } from 'vitest';
import {
  type CaptureTrialEnd,
  cancelVsPayFailures,
  captureVsVoidFailures,
  classifyCaptureTrial,
  classifyTrial,
  providerRefunds,
  type RefundSummary,
  refundAnswerKind,
  refundFailures,
  summarizeCaptureTrials,
  summarizeTrials,
} from '../race/verdicts';
import { runScript, type ToolRun } from '../support/processes';

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

/** `pnpm race -- <args>`, run to completion. */
const race = (...args: string[]) => runScript('tests/race/race.ts', ['--', ...args]);
/** Exit 0; the log (stderr with --json) is shown when not. */
const expectSuccess = (run: ToolRun) =>
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

it.each([
  ['full refunds: one succeeds, 19 are refused', [], 1],
  ['--partial-of 4: exactly 4 quarter refunds succeed, 16 are refused', ['--partial-of', '4'], 4],
])(
  'pnpm race --op refund, 20 concurrent %s; the amount goes back once by the database and the provider',
  async (_, extra, succeeded) => {
    const run = await race('--op', 'refund', '--clicks', '20', '--instances', '2', ...extra, '--json');
    expectSuccess(run);
    expect(run.lastLine).toBe(
      `{"op":"refund","clicks":20,"instances":2,"amount":4200,"refunds_succeeded":${succeeded},"refunded_amount":4200,` +
        `"provider_refunded_amount":4200,"refused":${20 - succeeded},"other":0}`,
    );
  },
);

it('pnpm race --op refund counts money back at the provider: a refund still pending there fails the run', async () => {
  // pm_card_pendingRefund: the provider keeps the refund pending; the database has reserved it.
  const run = await race(
    '--op',
    'refund',
    '--clicks',
    '10',
    '--instances',
    '2',
    '--card',
    'pm_card_pendingRefund',
    // Pending for the whole run, however slow the machine (the default 1 s settled it once in CI).
    '--refund-delay-ms',
    '600000',
    '--json',
  );
  expect(run.code).toBe(1);
  expect(JSON.parse(run.lastLine)).toEqual({
    op: 'refund',
    clicks: 10,
    instances: 2,
    amount: 4200,
    refunds_succeeded: 0,
    refunded_amount: 4200,
    provider_refunded_amount: 0,
    refused: 9,
    other: 1,
  });
  expect(run.stderr).toContain('FAILED: the provider refunded 0 of the PaymentIntent, expected 4200');
});

it('pnpm race --op cancel-vs-pay: every trial has one winner, and both outcomes occur', async () => {
  // 40 trials rather than 20: on a loaded machine the cancel wins about a third of them.
  const run = await race('--op', 'cancel-vs-pay', '--trials', '40', '--instances', '2', '--json');
  expectSuccess(run);
  const summary = JSON.parse(run.lastLine);
  expect(Object.keys(summary)).toEqual([
    'op',
    'trials',
    'canceled',
    'paid',
    'both',
    'neither',
    'provider_payment_intents',
  ]);
  expect(summary).toMatchObject({ op: 'cancel-vs-pay', trials: 40, both: 0, neither: 0 });
  expect(summary.canceled + summary.paid).toBe(40);
  expect(summary.provider_payment_intents).toBe(summary.paid);
  // The race is real: the calls are fired within a few ms of each other, and either wins sometimes.
  expect(summary.canceled).toBeGreaterThan(0);
  expect(summary.paid).toBeGreaterThan(0);
});

/** The capture-vs-void JSON line a run with `captured` of `trials` won by the capture must print exactly. */
const captureVsVoidLine = (trials: number, captured: number) =>
  `{"op":"capture-vs-void","trials":${trials},"captured":${captured},"voided":${trials - captured},` +
  `"both":0,"neither":0,"provider_captures":${captured},"mismatches":0}`;

it('pnpm race --op capture-vs-void: every authorized order is captured or voided, never both, as the provider says', async () => {
  const run = await race('--op', 'capture-vs-void', '--trials', '20', '--instances', '2', '--json');
  expectSuccess(run);
  const { captured } = JSON.parse(run.lastLine);
  expect(run.lastLine).toBe(captureVsVoidLine(20, captured));
  // The race is real: the two calls are fired within a few ms of each other, either wins sometimes.
  expect(captured).toBeGreaterThan(0);
  expect(captured).toBeLessThan(20);
});

it('pnpm race --op capture-vs-void --naive: the same race catches check-then-act capture and void', async () => {
  const run = await race(
    '--op',
    'capture-vs-void',
    '--naive',
    '--trials',
    '20',
    '--instances',
    '2',
    '--json',
  );
  expect(run.code).toBe(1);
  const summary = JSON.parse(run.lastLine);
  expect(Object.keys(summary)).toEqual(Object.keys(JSON.parse(captureVsVoidLine(20, 0))));
  expect(summary.captured + summary.voided + summary.both + summary.neither).toBe(20);
  // Both calls pass the check, both reach Stripe; the one Stripe refuses still answers success.
  expect(summary.both).toBeGreaterThan(0);
  expect(run.stderr).toContain('orders were both captured and voided (or both calls won)');
});

it('pnpm race: a bad command line prints the reason and the usage on stderr and exits 2, starting nothing', async () => {
  const cases: [args: string[], reason: string][] = [
    [
      ['--op', 'refunds'],
      '--op must be one of pay|create|refund|cancel-vs-pay|capture-vs-void (got "refunds")',
    ],
    [['--op', 'refund', '--partial-of', '9'], '--partial-of must divide the order amount 4200 (got 9)'],
    [['--op', 'refund', '--partial-of', '0'], '--partial-of must be an integer from 1 to 4200 (got "0")'],
    [['--op', 'refund', '--partial-of', '10', '--clicks', '5'], '--partial-of 10 needs at least 10 clicks'],
    [['--partial-of', '2'], '--partial-of is for --op refund, not --op pay'],
    [
      ['--op', 'refund', '--trials', '5'],
      '--trials is for --op cancel-vs-pay|capture-vs-void, not --op refund',
    ],
    [['--op', 'cancel-vs-pay', '--naive'], '--naive is for --op capture-vs-void, not --op cancel-vs-pay'],
    [
      ['--op', 'cancel-vs-pay', '--clicks', '5'],
      '--clicks is for --op pay|create|refund, not --op cancel-vs-pay',
    ],
    [['--op', 'cancel-vs-pay', '--trials', '0'], '--trials must be an integer from 1 to 10000 (got "0")'],
    [['--op', 'cancel-vs-pay', '--partial'], "Unknown option '--partial'"],
  ];
  const runs = await Promise.all(cases.map(([args]) => race(...args)));
  for (const [i, run] of runs.entries()) {
    const [args, reason] = cases[i]!;
    expect({ args, code: run.code, stdout: run.stdout, reason: run.stderr.split('\n')[0] }).toEqual({
      args,
      code: 2,
      stdout: '',
      reason: expect.stringContaining(reason),
    });
    expect(run.stderr).toContain(
      'usage: pnpm race -- [--op pay|create|refund|cancel-vs-pay|capture-vs-void]',
    );
  }
});

it('pnpm race --help documents every op and flag, and exits 0', async () => {
  const run = await race('--help');
  expect(run.code).toBe(0);
  const flags = ['--op refund', '--op cancel-vs-pay', '--op capture-vs-void', '--naive', '--partial-of P'];
  for (const flag of [...flags, '--trials T', '--clicks N']) {
    expect(run.stdout).toContain(flag);
  }
});

describe('the race counts catch what they exist to catch', () => {
  const clean: RefundSummary = {
    op: 'refund',
    clicks: 20,
    instances: 2,
    amount: 4200,
    refunds_succeeded: 4,
    refunded_amount: 4200,
    provider_refunded_amount: 4200,
    refused: 16,
    other: 0,
  };
  const facts = { parts: 4, providerRefunds: 4, databaseRefunds: 4 };

  it('refund: a double refund, money back short at the provider or in the database, a stray answer', () => {
    expect(refundFailures(clean, facts)).toEqual([]);
    // One refund too many: the fifth quarter answered refunded and reached the provider.
    const twice = { ...clean, refunds_succeeded: 5, refused: 15, provider_refunded_amount: 5250 };
    expect(refundFailures(twice, { ...facts, providerRefunds: 5 })).toEqual([
      '5 refunds succeeded, expected exactly 4',
      'the provider refunded 5250 of the PaymentIntent, expected 4200',
      'the database has 4 succeeded refunds, callers were told of 5',
    ]);
    expect(refundFailures({ ...clean, refunded_amount: 3150 }, facts)).toEqual([
      "the order's refunded_amount is 3150, expected 4200",
    ]);
    expect(refundFailures({ ...clean, refused: 15, other: 1 }, facts)).toEqual([
      '1 calls were neither refunded nor refused as nothing was left',
    ]);
    expect(refundFailures({ ...clean, refused: 15 }, facts)).toEqual(['19 answers counted for 20 calls']);
  });

  it('refund: answers are sorted by outcome and domain code; the provider counts succeeded refunds only', () => {
    const refusal = (domainCode: string) =>
      TRPCClientError.from({
        error: { code: -32009, message: 'refused', data: { code: 'CONFLICT', domainCode } },
      });
    const kinds = [
      { status: 'fulfilled', value: { outcome: 'refunded' } },
      { status: 'fulfilled', value: { outcome: 'pending' } },
      { status: 'rejected', reason: refusal('ORDER_NOT_REFUNDABLE') },
      { status: 'rejected', reason: refusal('REFUND_EXCEEDS_REFUNDABLE') },
      { status: 'rejected', reason: refusal('REFUND_FAILED') },
      { status: 'rejected', reason: new Error('fetch failed') },
    ] as const;
    expect(kinds.map(refundAnswerKind)).toEqual([
      'refunded',
      'other',
      'refused',
      'refused',
      'other',
      'other',
    ]);
    const ledger = [
      { payment_intent: 'pi_1', amount: 1050, status: 'succeeded' },
      { payment_intent: 'pi_1', amount: 1050, status: 'pending' },
      { payment_intent: 'pi_1', amount: 1050, status: 'failed' },
      { payment_intent: 'pi_2', amount: 4200, status: 'succeeded' },
      { payment_intent: 'pi_1', amount: 2100, status: 'succeeded' },
    ];
    expect(providerRefunds(ledger, ['pi_1'])).toEqual({ count: 2, amount: 3150 });
    expect(providerRefunds(ledger, [])).toEqual({ count: 0, amount: 0 });
  });

  it('cancel-vs-pay: a canceled order with a PaymentIntent, a paid one told canceled, a stuck or doubled one', () => {
    const won = (status: string, paymentIntents: number, cancelAnswer: string) => ({
      status,
      paymentIntents,
      cancelAnswer,
    });
    expect(
      [
        won('canceled', 0, 'canceled'),
        won('paid', 1, 'PAYMENT_IN_PROGRESS'),
        won('paid', 1, 'ORDER_NOT_CANCELABLE'),
        won('canceled', 1, 'canceled'),
        won('paid', 1, 'canceled'),
        won('pending', 0, 'PAYMENT_IN_PROGRESS'),
        won('processing', 1, 'PAYMENT_IN_PROGRESS'),
        won('paid', 2, 'PAYMENT_IN_PROGRESS'),
        won('paid', 0, 'ORDER_NOT_CANCELABLE'),
      ].map(classifyTrial),
    ).toEqual(['canceled', 'paid', 'paid', 'both', 'both', 'neither', 'neither', 'neither', 'neither']);
    const summary = summarizeTrials([won('canceled', 0, 'canceled'), won('paid', 1, 'ORDER_NOT_CANCELABLE')]);
    expect(summary).toEqual({
      op: 'cancel-vs-pay',
      trials: 2,
      canceled: 1,
      paid: 1,
      both: 0,
      neither: 0,
      provider_payment_intents: 1,
    });
    expect(cancelVsPayFailures(summary)).toEqual([]);
    expect(cancelVsPayFailures({ ...summary, canceled: 0, both: 1 })).toEqual([
      '1 orders were both canceled and paid',
    ]);
    expect(cancelVsPayFailures({ ...summary, paid: 0, neither: 1 })).toEqual([
      '1 orders ended neither canceled (no PaymentIntent) nor paid (one)',
    ]);
    expect(cancelVsPayFailures({ ...summary, trials: 3 })).toEqual(['2 outcomes counted for 3 trials']);
  });
  it('capture-vs-void: money taken under a voided order, both calls winning, a stuck or short one', () => {
    const pi = (status: string, amount_received = 0, cancellation_reason: string | null = null) => ({
      status,
      amount_received,
      cancellation_reason,
    });
    const captured = pi('succeeded', 4200);
    const voided = pi('canceled', 0, 'requested_by_customer');
    const end = (
      status: string,
      intents: CaptureTrialEnd['intents'],
      captureAnswer: string,
      voidAnswer: string,
    ): CaptureTrialEnd => ({ amount: 4200, status, intents, captureAnswer, voidAnswer });
    expect(
      [
        end('paid', [captured], 'captured', 'ORDER_NOT_VOIDABLE'),
        end('canceled', [voided], 'ORDER_NOT_CAPTURABLE', 'voided'),
        end('canceled', [captured], 'captured', 'voided'),
        end('paid', [captured], 'captured', 'voided'),
        end('paid', [voided], 'captured', 'ORDER_NOT_VOIDABLE'),
        end('canceled', [captured], 'ORDER_NOT_CAPTURABLE', 'voided'),
        end('authorized', [pi('requires_capture')], 'ORDER_NOT_CAPTURABLE', 'ORDER_NOT_VOIDABLE'),
        end('capturing', [pi('requires_capture')], 'pending', 'ORDER_NOT_VOIDABLE'),
        end('paid', [pi('succeeded', 2100)], 'captured', 'ORDER_NOT_VOIDABLE'),
        end('canceled', [pi('canceled', 0, 'automatic')], 'ORDER_NOT_CAPTURABLE', 'voided'),
        end('paid', [captured, captured], 'captured', 'ORDER_NOT_VOIDABLE'),
      ].map(classifyCaptureTrial),
    ).toEqual([
      'captured',
      'voided',
      'both',
      'both',
      'both',
      'both',
      'neither',
      'neither',
      'neither',
      'neither',
      'neither',
    ]);
    const summary = summarizeCaptureTrials([
      end('paid', [captured], 'captured', 'ORDER_NOT_VOIDABLE'),
      end('canceled', [voided], 'ORDER_NOT_CAPTURABLE', 'voided'),
    ]);
    expect(JSON.stringify(summary)).toBe(captureVsVoidLine(2, 1));
    expect(captureVsVoidFailures(summary)).toEqual([]);
    // The naive code's typical trial: Stripe captured, the void's blind write came last.
    const naive = summarizeCaptureTrials([end('canceled', [captured], 'captured', 'voided')]);
    expect(captureVsVoidFailures(naive)).toEqual([
      '1 orders were both captured and voided (or both calls won)',
      '1 orders disagree with their PaymentIntent at the provider',
      'the provider captured 1 PaymentIntents, 0 orders were captured',
    ]);
    expect(captureVsVoidFailures({ ...summary, trials: 3 })).toEqual(['2 outcomes counted for 3 trials']);
  });
});
