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

  it('resolves undefined when the package is only TypeScript source plain node cannot load (compiled server in a checkout)', async () => {
    const tsOnly = Object.assign(
      new TypeError('Unknown file extension ".ts" for /work/main/packages/stripe-emulator/src/index.ts'),
      { code: 'ERR_UNKNOWN_FILE_EXTENSION' },
    );
    const failing = () => Promise.reject(tsOnly);
    expect(await importIfInstalled('@chargeonce/stripe-emulator', failing)).toBeUndefined();
    // ...but another package's TypeScript failing underneath is not "absent": rethrown.
    await expect(importIfInstalled('@chargeonce/embedded-postgres', failing)).rejects.toBe(tsOnly);
  });
});
