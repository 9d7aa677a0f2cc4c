import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { openTab } from './support/tab';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
});

const signInHeading = (page: Page) => page.getByRole('heading', { name: 'Sign in', exact: true });
const ordersHeading = (page: Page) => page.getByRole('heading', { name: 'Orders', exact: true });

async function cookie(context: BrowserContext, name: string) {
  return (await context.cookies(stack.webUrl)).find((c) => c.name === name);
}

interface ScriptView {
  cookie: string;
  localStorage: [string, string][];
  sessionStorage: [string, string][];
}

/** Everything script on the page can read of cookies and storage (as text: no DOM types here). */
const whatScriptSees = (page: Page) =>
  page.evaluate<ScriptView>(
    '({ cookie: document.cookie, localStorage: Object.entries(localStorage), sessionStorage: Object.entries(sessionStorage) })',
  );

describe('the web session', () => {
  it('signs in with a typed token into an httpOnly cookie that script on the page cannot read', async () => {
    const tab = await openTab(stack, { name: 'session-signed-in', signedIn: false });
    const { page, context } = tab;
    await page.goto(stack.webUrl);
    await page.getByLabel('API token').fill(stack.token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await ordersHeading(page).waitFor();

    const session = await cookie(context, 'co_session');
    const csrf = await cookie(context, 'co_csrf');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(csrf).toMatchObject({ httpOnly: false, sameSite: 'Strict', path: '/' });
    // A session token of its own, ending within 12 hours, not the token that was typed.
    expect(session!.value).toMatch(/^co_/);
    expect(session!.value).not.toBe(stack.token);
    const hoursLeft = (session!.expires - Date.now() / 1000) / 3600;
    expect(hoursLeft).toBeGreaterThan(11.9);
    expect(hoursLeft).toBeLessThanOrEqual(12);

    const seen = await whatScriptSees(page);
    expect(seen.cookie).toBe(`co_csrf=${csrf!.value}`);
    expect(seen.localStorage).toEqual([]);
    expect(seen.sessionStorage).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain(session!.value);
    expect(JSON.stringify(seen)).not.toContain(stack.token);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('signs out: the session is revoked, the app shows sign-in, and a reload stays signed out', async () => {
    const tab = await openTab(stack, { name: 'session-signed-out' });
    const { page, context } = tab;
    await page.goto(stack.webUrl);
    await ordersHeading(page).waitFor();
    const session = (await cookie(context, 'co_session'))!.value;

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).click();
    await signInHeading(page).waitFor();
    expect(await context.cookies(stack.webUrl)).toEqual([]);
    await page.reload();
    await signInHeading(page).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

    // Revoked at the server, not only forgotten by the browser.
    const replay = await fetch(`${stack.server.url}/trpc/orders.list`, {
      headers: { cookie: `co_session=${session}` },
    });
    expect(replay.status).toBe(401);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('a session ended elsewhere ends here at the next request, saying so', async () => {
    const tab = await openTab(stack, { name: 'session-ended-elsewhere', expectedStatuses: [401] });
    const { page, context } = tab;
    await page.goto(stack.webUrl);
    await ordersHeading(page).waitFor();
    const session = (await cookie(context, 'co_session'))!.value;
    const csrf = (await cookie(context, 'co_csrf'))!.value;
    const logout = await fetch(`${stack.server.url}/session/logout`, {
      method: 'POST',
      headers: { cookie: `co_session=${session}; co_csrf=${csrf}`, 'x-csrf-token': csrf },
    });
    expect(logout.status).toBe(204);

    await page.reload();
    await signInHeading(page).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Your session ended. Sign in again.' }).waitFor();
    // The refused session is not taken up again.
    await page.reload();
    await signInHeading(page).waitFor();
    expect((await whatScriptSees(page)).cookie).toBe('');
    expect(tab.consoleErrors).toEqual([]);
  });

  it('forgets a token an earlier version kept in localStorage', async () => {
    const tab = await openTab(stack, { name: 'session-legacy-token', signedIn: false });
    const { page } = tab;
    await page.goto(stack.webUrl);
    await signInHeading(page).waitFor();
    await page.evaluate(`localStorage.setItem('chargeonce.token', ${JSON.stringify(stack.token)})`);
    await page.reload();
    await signInHeading(page).waitFor();
    expect(await whatScriptSees(page)).toEqual({ cookie: '', localStorage: [], sessionStorage: [] });
    expect(tab.consoleErrors).toEqual([]);
  });

  it('a form on another site cannot end (or use) the session', async () => {
    const tab = await openTab(stack, { name: 'session-cross-site' });
    const { page, context } = tab;
    const session = (await cookie(context, 'co_session'))!.value;
    // about:blank is another site. Logout needs no body, so only the cookie's SameSite=Strict (the
    // browser does not send it) and the CSRF check (a form cannot send the header) stand in the way.
    const action = `${stack.server.url}/session/logout`;
    await page.setContent(
      `<form method="post" action="${action}" enctype="text/plain"><input type="hidden" name="a" value="b"></form>`,
    );
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.url() === action),
      page.locator('form').evaluate((form) => (form as unknown as { submit(): void }).submit()),
    ]);
    expect(answer.status()).toBe(204);
    expect((await cookie(context, 'co_session'))?.value).toBe(session);
    await page.goto(stack.webUrl);
    await ordersHeading(page).waitFor();
    const still = await fetch(`${stack.server.url}/trpc/orders.list`, {
      headers: { cookie: `co_session=${session}` },
    });
    expect(still.status).toBe(200);
    expect(tab.consoleErrors).toEqual([]);
  });
});
