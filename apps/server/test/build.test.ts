import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkImports, outdirOf } from '../build';

/** A metafile whose only input is `file`, importing `path` (kept external) as `kind`. */
const importing = (file: string, path: string, kind: 'import-statement' | 'dynamic-import'): Metafile => ({
  inputs: { [file]: { bytes: 1, imports: [{ path, kind, external: true }] } },
  outputs: {},
});

const server = {
  name: '@chargeonce/server',
  dependencies: { postgres: '3.4.9', stripe: '23.1.0' },
};

describe('the production build refuses a bundle that would not run deployed', () => {
  it('passes dynamic imports of development-only packages, declared npm packages and builtins', () => {
    expect(
      checkImports(importing('src/provider.ts', '@chargeonce/stripe-emulator', 'dynamic-import'), server),
    ).toEqual([]);
    expect(
      checkImports(importing('../../packages/db/src/client.ts', 'postgres', 'import-statement'), server),
    ).toEqual([]);
    expect(checkImports(importing('src/main.ts', 'node:fs', 'import-statement'), server)).toEqual([]);
  });

  it('a static import of the emulator or embedded PostgreSQL (it would become a production dependency)', () => {
    for (const pkg of ['@chargeonce/stripe-emulator', '@chargeonce/embedded-postgres']) {
      expect(checkImports(importing('src/runtime.ts', pkg, 'import-statement'), server)).toEqual([
        `src/runtime.ts imports ${pkg} statically: only a dynamic import() keeps it out of production`,
      ]);
    }
  });

  it('an npm import the server does not declare, or declares at another version than its user', () => {
    expect(
      checkImports(
        importing('../../packages/db/src/client.ts', 'drizzle-orm/pg-core', 'import-statement'),
        server,
      ),
    ).toEqual([
      "../../packages/db/src/client.ts imports drizzle-orm: add it to @chargeonce/server's dependencies",
    ]);
    const drifted = { ...server, dependencies: { ...server.dependencies, postgres: '3.4.8' } };
    expect(
      checkImports(importing('../../packages/db/src/client.ts', 'postgres', 'import-statement'), drifted),
    ).toEqual(['postgres: @chargeonce/db wants 3.4.9, @chargeonce/server declares 3.4.8']);
  });
});

it('--outdir: dist by default, a dist-<word> sibling when asked, anything else refused', () => {
  expect(outdirOf([])).toBe('dist');
  expect(outdirOf(['--outdir', 'dist-bench'])).toBe('dist-bench');
  expect(outdirOf(['--outdir=dist-bench-4242'])).toBe('dist-bench-4242');
  expect(outdirOf(['--', '--outdir', 'dist-bench'])).toBe('dist-bench');
  // Deeper or outside would move import.meta.url and break the paths the bundle derives from it.
  for (const bad of ['../dist', 'dist/bench', 'src', '', 'dist-']) {
    expect(() => outdirOf(['--outdir', bad])).toThrow(/--outdir must be dist or dist-<word>/);
  }
  expect(() => outdirOf(['--outdir'])).toThrow(/--outdir must be/);
  expect(() => outdirOf(['--outdir=../x'])).toThrow(/--outdir must be/);
  // A misspelt flag or a stray word must not silently rebuild dist.
  expect(() => outdirOf(['--out-dir', 'dist-bench'])).toThrow(/unexpected argument --out-dir/);
  expect(() => outdirOf(['dist-bench'])).toThrow(/unexpected argument dist-bench/);
});
