import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { onTestFinished } from 'vitest';
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
  pays: { sent: number; settled: number };
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
}

/**
 * A fresh browser context (its own storage: a separate "tab" of a separate person or window),
 * signed in as the demo user unless told otherwise. When the test ends, its final state is saved
 * as a screenshot and the context is closed.
 */
export async function openTab(stack: BrowserStack, options: TabOptions): Promise<Tab> {
  const context = await stack.browser.newContext({ viewport: { width: 1100, height: 900 } });
  if (options.signedIn !== false) await signInContext(stack, context);
  const page = await context.newPage();
  const tab: Tab = { context, page, consoleErrors: [], pays: { sent: 0, settled: 0 } };
  const expected = (options.expectedStatuses ?? []).map(
    (status) => `Failed to load resource: the server responded with a status of ${status} `,
  );
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!expected.some((prefix) => text.startsWith(prefix))) tab.consoleErrors.push(text);
  });
  page.on('pageerror', (error) => tab.consoleErrors.push(`uncaught: ${error.message}`));
  const isPay = (url: string) => new URL(url).pathname === '/trpc/orders.pay';
  page.on('request', (request) => {
    if (isPay(request.url())) tab.pays.sent++;
  });
  const settled = (request: { url(): string }) => {
    if (isPay(request.url())) tab.pays.settled++;
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
 * Signs a browser context in as the demo user the way the web client does, `POST /session`, but
 * through the context's own request API: its cookie jar gets the session cookies, no page runs.
 */
export async function signInContext(stack: BrowserStack, context: BrowserContext): Promise<void> {
  const res = await context.request.post(new URL('/session', stack.webUrl).href, {
    data: { token: stack.token },
  });
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
  };
}
