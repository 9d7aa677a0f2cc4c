import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type NodeCommand, REPO_ROOT } from './processes';

/**
 * The Dockerfile's build-stage commands, run here the same way (CI has no Docker engine): the test
 * checks that the Dockerfile still says exactly these, so the rehearsal cannot drift from it.
 */
export const BUILD_COMMANDS = {
  server: 'pnpm --filter @chargeonce/server build',
  deploy: 'pnpm --filter @chargeonce/server deploy --prod',
} as const;

/** The image's layout under its root (/app): the checkout's shape, which the bundle's paths expect. */
export const LAYOUT = { server: 'apps/server', migrations: 'drizzle', web: 'apps/web/dist' } as const;

export interface Deployment {
  /** Stands for the image's /app: outside the checkout, so nothing resolves into it. */
  root: string;
  /** `<root>/apps/server`: the `pnpm deploy --prod` output (dist/, package.json, node_modules/). */
  serverDir: string;
  /** `node <dist/file> <args>` from the deployed package, with only PATH and HOME inherited. */
  node(file: string, args?: string[]): NodeCommand;
  remove(): void;
}

const run = promisify(execFile);

/**
 * Builds `apps/server/dist` in this checkout, as the Dockerfile's build stage does; or, with
 * `outdir` (`dist-<word>`), the same build beside it, which a suite running `dist` at the same
 * time never sees half-written (the build empties its folder first).
 */
export const buildServer = (outdir = 'dist') =>
  outdir === 'dist' ? pnpm(BUILD_COMMANDS.server) : pnpm(BUILD_COMMANDS.server, '--outdir', outdir);

/**
 * The built server run in this checkout as the image's CMD runs it (`node --enable-source-maps
 * dist/main.js`), with `nodeArgs` (e.g. `--cpu-prof`) for node first. `buildServer(outdir)` first.
 */
export const builtServerCommand = (nodeArgs: string[] = [], outdir = 'dist'): NodeCommand => ({
  args: [...nodeArgs, '--enable-source-maps', join(REPO_ROOT, LAYOUT.server, outdir, 'main.js')],
  cwd: REPO_ROOT,
});

async function pnpm(command: string, ...args: string[]): Promise<void> {
  const [bin, ...rest] = command.split(' ');
  await run(bin!, [...rest, ...args], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Builds the server, deploys it with `pnpm deploy --prod` into a temporary folder laid out as the
 * image is, and copies the migrations there as the Dockerfile does. The web client is a stand-in
 * page (building the real one is the web suite's business): it shows the bundle finds it there.
 */
export async function deployProductionBuild(): Promise<Deployment> {
  const root = mkdtempSync(join(tmpdir(), 'chargeonce-deploy-'));
  const serverDir = join(root, LAYOUT.server);
  try {
    await buildServer();
    mkdirSync(dirname(serverDir), { recursive: true });
    await pnpm(BUILD_COMMANDS.deploy, serverDir);
    cpSync(join(REPO_ROOT, LAYOUT.migrations), join(root, LAYOUT.migrations), { recursive: true });
    mkdirSync(join(root, LAYOUT.web), { recursive: true });
    writeFileSync(join(root, LAYOUT.web, 'index.html'), '<!doctype html><title>deployed web client</title>');
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  // Only what a container has: no NODE_OPTIONS (tsx), NODE_PATH or configuration from this run.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root };
  return {
    root,
    serverDir,
    node: (file, args = []) => ({
      args: ['--enable-source-maps', join('dist', file), ...args],
      cwd: serverDir,
      env,
    }),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every `node_modules` folder that Node's resolution would search from `dir` upwards. */
export function nodeModulesUpFrom(dir: string): string[] {
  const found: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) found.push(join(at, 'node_modules'));
    if (dirname(at) === at) return found;
  }
}
