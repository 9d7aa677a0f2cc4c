import { describe, expect, it } from 'vitest';
import { importIfInstalled } from '../src';

/** A specifier in a variable: neither TypeScript nor the test's bundler resolves it ahead of time. */
const load = (specifier: string) => () => import(/* @vite-ignore */ specifier);

describe('importIfInstalled', () => {
  it('loads an installed package', async () => {
    const loaded = await importIfInstalled('node:path', load('node:path'));
    expect(typeof (loaded as { join?: unknown }).join).toBe('function');
  });

  it('resolves undefined when the package named is not installed', async () => {
    const name = '@chargeonce/not-installed';
    expect(await importIfInstalled(name, load(name))).toBeUndefined();
  });

  it('rethrows when something else is missing (not the package it was asked about)', async () => {
    await expect(
      importIfInstalled('@chargeonce/stripe-emulator', load('@chargeonce/also-not-installed')),
    ).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });
});
