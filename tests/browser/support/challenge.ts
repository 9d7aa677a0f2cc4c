import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** The emulator's 3-D Secure challenge page (`GET /_emulator/3ds/src_...`), as Stripe's test page. */
export const CHALLENGE_PAGE = /\/_emulator\/3ds\/src_[A-Za-z0-9]+$/;
/** The order page, with or without Stripe's return query. */
export const ORDER_PAGE = /\/orders\/[0-9a-f-]{36}(\?.*)?$/;

export const THREE_DS_CARD = 'pm_card_threeDSecure2Required';

/**
 * Every time the tab's browser went to a challenge page (main-frame navigations, followed or not).
 * The emulator's page has no favicon: Chromium would log its 404 as a console error of the tab, so
 * that one request is answered here (the emulator is not the page under test).
 */
export async function recordChallengeVisits(page: Page, emulatorUrl: string): Promise<string[]> {
  const visits: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.isNavigationRequest() && request.method() === 'GET' && CHALLENGE_PAGE.test(url.pathname)) {
      visits.push(url.href);
    }
  });
  await page.route(`${emulatorUrl}/favicon.ico`, (route) => route.fulfill({ status: 204 }));
  return visits;
}

export interface PayAnswerSeen {
  outcome: string | undefined;
  redirectUrl: string | null | undefined;
}

/**
 * The answer of every `orders.pay`, read on its way to the page (passed on unchanged). The tab's own
 * record cannot read these bodies: the page has navigated away by the time it would.
 */
export async function recordPayAnswers(page: Page): Promise<PayAnswerSeen[]> {
  const seen: PayAnswerSeen[] = [];
  await page.route('**/trpc/orders.pay', async (route) => {
    const response = await route.fetch();
    const body = (await response.json().catch(() => ({}))) as {
      result?: { data?: { outcome?: string; redirectUrl?: string | null } };
    };
    seen.push({ outcome: body.result?.data?.outcome, redirectUrl: body.result?.data?.redirectUrl });
    await route.fulfill({ response });
  });
  return seen;
}

/**
 * Holds every navigation to a challenge page until `ready()` (e.g. until every pay request has its
 * answer), so the page keeps running while later answers arrive: a page that navigated again for
 * each of them would be seen doing it.
 */
export async function holdChallengeUntil(page: Page, ready: () => boolean, what: string): Promise<void> {
  await page.route(CHALLENGE_PAGE, async (route) => {
    try {
      await expect.poll(ready, { message: what }).toBe(true);
    } finally {
      // A navigation the page replaced by another is gone already: nothing to continue.
      await route.continue().catch(() => {});
    }
  });
}

/** The challenge page's controls, and the order page's words around a challenge. */
export function challengeUi(page: Page) {
  return {
    complete: page.getByRole('button', { name: 'Complete', exact: true }),
    fail: page.getByRole('button', { name: 'Fail', exact: true }),
    confirmWithBank: page.getByRole('heading', { name: 'Confirm with your bank…' }),
    continueLink: page.getByRole('link', { name: 'Continue to your bank' }),
    failed: page.getByRole('heading', { name: 'Payment failed' }),
    authorized: page.getByRole('heading', { name: 'Authorized — will be charged when shipped' }),
  };
}
