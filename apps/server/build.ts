/**
 * `pnpm --filter @chargeonce/server build`: the production build, JavaScript that runs on plain
 * `node` (no tsx). The workspace packages export TypeScript source, so their code is bundled;
 * every npm package stays an import, served by the node_modules that `pnpm deploy --prod`
 * installs from this package's `dependencies` (postgres.js there is the patched copy: deploy
 * applies `patchedDependencies` as install does).
 *
 * Entries land side by side in dist/ (main.js, recover.js, reconcile.js, admin.js, migrate.js and
 * their shared chunks): `import.meta.url` in the bundle is then `apps/server/dist/<x>.js`, as deep
 * in the tree as the sources (`apps/server/src/config.ts`, `packages/db/src/migrate.ts`), so the
 * paths they derive from it (the migrations `drizzle/`, the web client `apps/web/dist`, the data
 * directory `.data/`) resolve the same in the checkout and in an image laid out like it.
 *
 * The build fails when the bundle would not run where it is deployed: an npm import this package
 * does not declare, or declares at another version than the workspace package that uses it; or a
 * development-only package (the Stripe emulator, embedded PostgreSQL) imported other than with a
 * dynamic `import()`, which would make it a production dependency.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');

/** Loaded only when the configuration asks for them; absent from a `pnpm deploy --prod`. */
export const DEVELOPMENT_ONLY = ['@chargeonce/stripe-emulator', '@chargeonce/embedded-postgres'];

const entryPoints = {
  main: 'src/main.ts',
  recover: 'src/cli/recover.ts',
  reconcile: 'src/cli/reconcile.ts',
  admin: 'src/cli/admin.ts',
  migrate: '../../packages/db/src/cli/migrate.ts',
};

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier));

/** Workspace code is bundled; npm packages and the development-only packages stay imports. */
const externals: Plugin = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      if (isBuiltin(path)) return { external: true };
      const pkg = packageOf(path);
      if (pkg.startsWith('@chargeonce/') && !DEVELOPMENT_ONLY.includes(pkg)) return undefined;
      return { external: true };
    });
  },
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The directory of the workspace package that holds `file` (a path relative to this package). */
function packageDirOf(file: string): string {
  const parts = relative(repo, join(here, file)).split('/');
  return join(repo, parts[0]!, parts[1]!);
}

/** What is wrong with the bundle's imports, as one line each; empty when it will run deployed. */
export function checkImports(metafile: Metafile, server: Manifest): string[] {
  const problems = new Set<string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const pkg = packageOf(imported.path);
      if (DEVELOPMENT_ONLY.includes(pkg)) {
        if (imported.kind !== 'dynamic-import') {
          problems.add(
            `${file} imports ${pkg} statically: only a dynamic import() keeps it out of production`,
          );
        }
        continue;
      }
      const owner = readManifest(packageDirOf(file));
      const wanted = owner.dependencies?.[pkg] ?? owner.devDependencies?.[pkg];
      const declared = server.dependencies?.[pkg];
      if (!declared) {
        // Once per package: the first file that imports it says where.
        if (![...problems].some((p) => p.includes(` imports ${pkg}: `))) {
          problems.add(`${file} imports ${pkg}: add it to ${server.name}'s dependencies`);
        }
      } else if (wanted && wanted !== declared) {
        problems.add(`${pkg}: ${owner.name} wants ${wanted}, ${server.name} declares ${declared}`);
      }
    }
  }
  return [...problems];
}

export const BUILD_USAGE = `usage: pnpm --filter @chargeonce/server build [--outdir NAME]
  --outdir NAME  build into apps/server/NAME instead of dist; NAME is dist or dist-<word>[-<word>...]
                 (a sibling of dist, so the paths the bundle derives from import.meta.url still resolve)`;

/**
 * `--outdir NAME` (or `--outdir=NAME`) builds into `apps/server/NAME` instead of `dist` (the bench's
 * own copy, so it never rebuilds under a test that runs `dist`). NAME is `dist` or `dist-<word>`: a
 * sibling at the same depth, so the paths the bundle derives from `import.meta.url` still resolve.
 * Throws a usage message for anything else, an unknown flag or a stray argument.
 */
export function outdirOf(argv: string[]): string {
  const { values, positionals } = parseArgs({
    // pnpm passes a `--` through to the script (`pnpm ... build -- --outdir x`): not a terminator here.
    args: argv.filter((a) => a !== '--'),
    options: { outdir: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const unknown = Object.keys(values).filter((k) => k !== 'outdir');
  if (unknown.length > 0 || positionals.length > 0)
    throw new Error(`unexpected argument ${[...unknown.map((k) => `--${k}`), ...positionals][0]}`);
  const name = values.outdir ?? 'dist';
  if (typeof name !== 'string' || !/^dist(-[a-z0-9]+)*$/.test(name))
    throw new Error(`--outdir must be dist or dist-<word> (a sibling of dist), not ${JSON.stringify(name)}`);
  return name;
}

async function main(): Promise<void> {
  let name: string;
  try {
    name = outdirOf(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${BUILD_USAGE}`);
    process.exit(2);
  }
  const outdir = join(here, name);
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: here,
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [externals],
  });
  const problems = checkImports(result.metafile, readManifest(here));
  if (problems.length) {
    console.error(`the build would not run deployed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(
    `${relative(here, outdir)}/: ${Object.keys(entryPoints).join(', ')} (${Math.round(bytes / 1024)} KiB with maps)`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
