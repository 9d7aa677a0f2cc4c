import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page, Request } from 'playwright-core';
import { expect, onTestFinished } from 'vitest';
import { REPO_ROOT } from '../../support/processes';
import type { BrowserStack } from './stack';

/** Screenshots of each test's final state (git-ignored; CI keeps them as artifacts). */
export const RESULTS_DIR = join(REPO_ROOT, 'tests', 'test-results', 'browser');

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors, as text. */
  consoleErrors: string[];
  /** `orders.pay` HTTP requests this tab sent, and how many of them have finished (either way). */
  pays: Calls;
  /** The same for any mutation, by procedure (`orders.refund`, `orders.cancel`). */
  calls(procedure: string): Calls;
}

/** A mutation's HTTP requests (retries included): the idempotency key each one carried, and its answer. */
export interface Calls {
  sent: number;
  settled: number;
  keys: string[];
  answers: Answer[];
}

export interface Answer {
  status: number;
  /** `Idempotent-Replayed: true`: the answer of an earlier request with the key, nothing executed. */
  replayed: boolean;
  /** The answer's `outcome` (`refunded`, `canceled`, ...), or its domain error code. */
  outcome: string | undefined;
}

interface AnswerBody {
  result?: { data?: { outcome?: string } };
  error?: { data?: { domainCode?: string } };
}

export interface TabOptions {
  /** Screenshot file name (without .png). */
  name: string;
  /**
   * HTTP statuses the app expects as answers. Chromium logs every 4xx/5xx response to the console
   * ("Failed to load resource: ... 402") even when the page handles it; a card decline is such an
   * answer (402 Payment Required), not an error of the page.
   */
  expectedStatuses?: number[];
  signedIn?: boolean;
  /** Sign in with this user token instead of the demo user's (e.g. an operator's). */
  token?: string;
}

/**
 * A fresh browser context (its own storage: a separate "tab" of a separate person or window),
 * signed in as the demo user unless told otherwise. When the test ends, its final state is saved
 * as a screenshot and the context is closed.
 */
export async function openTab(stack: BrowserStack, options: TabOptions): Promise<Tab> {
  const context = await stack.browser.newContext({ viewport: { width: 1100, height: 900 } });
  if (options.signedIn !== false) await signInContext(stack, context, options.token);
  const page = await context.newPage();
  const counts = new Map<string, Calls>();
  const calls = (procedure: string): Calls => {
    const known = counts.get(procedure) ?? { sent: 0, settled: 0, keys: [], answers: [] };
    counts.set(procedure, known);
    return known;
  };
  const tab: Tab = { context, page, consoleErrors: [], pays: calls('orders.pay'), calls };
  const expected = (options.expectedStatuses ?? []).map(
    (status) => `Failed to load resource: the server responded with a status of ${status} `,
  );
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!expected.some((prefix) => text.startsWith(prefix))) tab.consoleErrors.push(text);
  });
  page.on('pageerror', (error) => tab.consoleErrors.push(`uncaught: ${error.message}`));
  // Mutations are POSTs of one procedure each (queries are batched GETs).
  const mutationOf = (request: Request) => {
    const path = new URL(request.url()).pathname;
    return request.method() === 'POST' && path.startsWith('/trpc/')
      ? calls(path.slice('/trpc/'.length))
      : null;
  };
  page.on('request', (request) => {
    const mutation = mutationOf(request);
    if (!mutation) return;
    mutation.sent++;
    const { idempotencyKey } = JSON.parse(request.postData() ?? '{}') as { idempotencyKey?: string };
    if (idempotencyKey) mutation.keys.push(idempotencyKey);
  });
  page.on('response', async (response) => {
    const mutation = mutationOf(response.request());
    if (!mutation) return;
    const replayed = response.headers()['idempotent-replayed'] === 'true';
    const body = (await response.json().catch(() => ({}))) as AnswerBody;
    const outcome = body.result?.data?.outcome ?? body.error?.data?.domainCode;
    mutation.answers.push({ status: response.status(), replayed, outcome });
  });
  const settled = (request: Request) => {
    const mutation = mutationOf(request);
    if (mutation) mutation.settled++;
  };
  page.on('requestfinished', settled);
  page.on('requestfailed', settled);

  onTestFinished(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, `${options.name}.png`), fullPage: true }).catch(() => {});
    await context.close();
  });
  return tab;
}

/**
 * Signs a browser context in (as the demo user unless given another token) the way the web client does, `POST /session`, but
 * through the context's own request API: its cookie jar gets the session cookies, no page runs.
 */
export async function signInContext(
  stack: BrowserStack,
  context: BrowserContext,
  token = stack.token,
): Promise<void> {
  const res = await context.request.post(new URL('/session', stack.webUrl).href, { data: { token } });
  if (res.status() !== 200) throw new Error(`POST /session answered ${res.status()}: ${await res.text()}`);
}

/** Locators for the order page, by role and accessible name (what a person or screen reader sees). */
export function orderPage(page: Page) {
  return {
    payButton: page.getByRole('button', { name: /^Pay / }),
    paid: page.getByRole('heading', { name: 'Paid', exact: true }),
    confirming: page.getByRole('heading', { name: /Confirming your payment/ }),
    declined: page.getByRole('heading', { name: 'Payment declined' }),
    paymentIntentId: page.getByTestId('payment-intent-id'),
    attemptRows: page.locator('table.attempts tbody tr'),
    badge: page.getByRole('heading', { level: 1 }).locator('.badge'),
    cancelButton: page.getByRole('button', { name: /^Cancel order|^Canceling/ }),
    canceled: page.getByRole('heading', { name: 'Canceled', exact: true }),
    refundButton: page.getByRole('button', { name: /^Refund/ }),
    refundAmount: page.getByLabel('Amount to refund'),
    refundReason: page.getByLabel('Reason'),
    refundedAmount: page.getByTestId('refunded-amount'),
    refundRows: page.locator('table.refunds tbody tr'),
    alerts: page.getByRole('alert'),
  };
}

/**
 * `times` click events on one button in one task, faster than React can disable it: it disables
 * the button only on its next render, after every handler has run, so `times` requests go out and
 * only the page's idempotency key (and the server) stands between them and `times` actions.
 */
export async function clickInOneTask(button: Locator, times: number): Promise<void> {
  await button.evaluate((element, n) => {
    const target = element as unknown as { click(): void };
    for (let i = 0; i < n; i++) target.click();
  }, times);
}

/**
 * Turns the page into the naive one the tests must be able to catch: every request to `procedure`
 * leaves with an idempotency key of its own, as from a page that makes a new key per click. The
 * tab still records the key the page chose; the server sees a new one each time.
 */
export async function newKeyPerRequest(page: Page, procedure: string): Promise<void> {
  await page.route(`**/trpc/${procedure}`, (route) => {
    const input = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
    return route.continue({ postData: JSON.stringify({ ...input, idempotencyKey: randomUUID() }) });
  });
}

/** Waits until every request of a mutation the tab sent has its answer (retries of a key in use included). */
export async function allAnswered(calls: Calls, what: string): Promise<void> {
  await expect
    .poll(() => calls.sent > 0 && calls.answers.length === calls.sent && calls.settled === calls.sent, {
      message: `every ${what} request to be answered`,
    })
    .toBe(true);
}
