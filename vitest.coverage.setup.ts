import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CHILD_COVERAGE_DIR } from './vitest.coverage.ts';

/**
 * Global setup of every suite `moneyPathSuite` configures: when the run records coverage, the
 * processes its tests start (servers, CLIs; tests/support/processes.ts) record raw V8 coverage into
 * a folder of this suite's own, emptied first so an earlier run's processes do not count. Set on
 * this process before the workers start, which inherit it.
 */
export default function setup(project: TestProject): void {
  if (!project.config.coverage.enabled) return;
  const dir = join(CHILD_COVERAGE_DIR, project.config.name || 'suite');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.CHARGEONCE_CHILD_V8_COVERAGE = dir;
}
