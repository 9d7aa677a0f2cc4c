import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What `chargeonce_build_info` says this process is. */
export interface BuildInfo {
  version: string;
  node: string;
  commit: string;
}

/** This package's root, from src/ (tsx) or dist/ (the compiled build) alike. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The server package's version, the Node version, and the commit: `configured` (CHARGEONCE_BUILD_COMMIT,
 * set by a build that has no .git), else `git rev-parse HEAD` when this runs from a checkout, else
 * "unknown". Asked once at start-up; never fails.
 */
export function buildInfo(configured: string | undefined): BuildInfo {
  return { version: packageVersion(), node: process.version, commit: configured ?? gitCommit() };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(`${PACKAGE_DIR}/package.json`, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2_000,
    }).trim();
    return /^[0-9a-f]{7,64}$/.test(out) ? out : 'unknown';
  } catch {
    return 'unknown';
  }
}
