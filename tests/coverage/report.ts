/**
 * `pnpm coverage -- [--update]`: the money path's line and branch coverage over every suite that
 * recorded it (vitest.coverage.ts), with what the processes those suites started executed credited
 * (credit.ts); a table per package, an HTML report, and a failure when a package has more uncovered
 * lines or branches than tests/coverage/thresholds.json allows. `pnpm test` runs it last.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '@chargeonce/cli';
import libCoverage, { type CoverageMap, type CoverageSummary } from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import { CHILD_COVERAGE_DIR, COVERAGE_DIR, COVERED_PACKAGES, REPO_ROOT } from '../../vitest.coverage.ts';
import { creditProcesses, readProcessScripts } from './credit';

const CLI = {
  usage: `usage: pnpm coverage -- [--update]
  Merges the coverage the suites of \`pnpm test\` recorded under tests/test-results/coverage/suites,
  credits what their spawned processes ran (tests/test-results/coverage/processes), prints lines and
  branches per package, writes tests/test-results/coverage/html/index.html, and fails when a
  package has more uncovered lines or branches than tests/coverage/thresholds.json allows.
  --update  write the measured counts into thresholds.json where they are lower (never higher)`,
  options: { update: { type: 'boolean', default: false } },
} as const;

export const THRESHOLDS_FILE = fileURLToPath(new URL('thresholds.json', import.meta.url));
/** The suites `pnpm test` records coverage in; a missing one means a partial run, not less coverage. */
export const SUITES = ['payments', 'api', 'db', 'server', 'integration'] as const;

/** At most this many lines and branches of a package may be left uncovered. */
export type Thresholds = Record<string, { uncoveredLines: number; uncoveredBranches: number }>;

export interface PackageCoverage {
  name: string;
  lines: { covered: number; total: number };
  branches: { covered: number; total: number };
}

/** The coverage of `map` per covered package (`packages/<name>/src`). */
export function perPackage(map: CoverageMap, root: string): PackageCoverage[] {
  return COVERED_PACKAGES.map((name) => {
    const summary: CoverageSummary = libCoverage.createCoverageSummary();
    for (const file of map.files())
      if (relative(root, file).startsWith(`packages/${name}/src/`))
        summary.merge(map.fileCoverageFor(file).toSummary());
    return {
      name,
      lines: { covered: summary.lines.covered, total: summary.lines.total },
      branches: { covered: summary.branches.covered, total: summary.branches.total },
    };
  });
}

/** What is over its threshold, one line each; empty when every package is within. */
export function overThresholds(measured: PackageCoverage[], thresholds: Thresholds): string[] {
  return measured.flatMap((p) => {
    const allowed = thresholds[p.name];
    if (!allowed) return [`${p.name}: no threshold in ${relative(REPO_ROOT, THRESHOLDS_FILE)}`];
    const lines = p.lines.total - p.lines.covered;
    const branches = p.branches.total - p.branches.covered;
    return [
      ...(lines > allowed.uncoveredLines
        ? [`${p.name}: ${lines} uncovered lines, at most ${allowed.uncoveredLines}`]
        : []),
      ...(branches > allowed.uncoveredBranches
        ? [`${p.name}: ${branches} uncovered branches, at most ${allowed.uncoveredBranches}`]
        : []),
    ];
  });
}

/** `thresholds` lowered to what was measured where that is lower: coverage only ratchets up. */
export function ratchet(measured: PackageCoverage[], thresholds: Thresholds): Thresholds {
  const next: Thresholds = { ...thresholds };
  for (const p of measured) {
    const lines = p.lines.total - p.lines.covered;
    const branches = p.branches.total - p.branches.covered;
    const was = thresholds[p.name] ?? { uncoveredLines: lines, uncoveredBranches: branches };
    next[p.name] = {
      uncoveredLines: Math.min(was.uncoveredLines, lines),
      uncoveredBranches: Math.min(was.uncoveredBranches, branches),
    };
  }
  return next;
}

const pct = (m: { covered: number; total: number }) =>
  m.total === 0 ? '   n/a' : `${((100 * m.covered) / m.total).toFixed(1).padStart(5)} %`;

function main(): number {
  const values = parseCommandLine(CLI);
  const missing = SUITES.filter((s) => !existsSync(join(COVERAGE_DIR, 'suites', s, 'coverage-final.json')));
  if (missing.length > 0) {
    console.error(
      `coverage: no coverage recorded by ${missing.join(', ')}: run \`pnpm test\` (each suite's \`vitest run --coverage\`) first`,
    );
    return 2;
  }
  const map = libCoverage.createCoverageMap({});
  for (const suite of SUITES)
    map.merge(JSON.parse(readFileSync(join(COVERAGE_DIR, 'suites', suite, 'coverage-final.json'), 'utf8')));
  const dumps = existsSync(CHILD_COVERAGE_DIR) ? readdirSync(CHILD_COVERAGE_DIR) : [];
  const credited = creditProcesses(map, readProcessScripts(CHILD_COVERAGE_DIR, new Set(map.files())));
  const measured = perPackage(map, REPO_ROOT);

  reports.create('html').execute(
    libReport.createContext({
      dir: join(COVERAGE_DIR, 'html'),
      coverageMap: map,
      defaultSummarizer: 'nested',
    }),
  );
  console.log(
    `coverage of the money path over suites ${SUITES.join(', ')}; processes of ${dumps.length} suite(s) credited ` +
      `${credited.statements} statements and ${credited.branches} branch arms`,
  );
  const recorded = JSON.parse(readFileSync(THRESHOLDS_FILE, 'utf8')) as Thresholds;
  const thresholds = values.update ? ratchet(measured, recorded) : recorded;
  for (const p of measured) {
    const allowed = thresholds[p.name];
    console.log(
      `  packages/${p.name.padEnd(9)} lines ${pct(p.lines)} (${p.lines.covered}/${p.lines.total}, ` +
        `${p.lines.total - p.lines.covered} uncovered, at most ${allowed?.uncoveredLines ?? '?'})  ` +
        `branches ${pct(p.branches)} (${p.branches.covered}/${p.branches.total}, ` +
        `${p.branches.total - p.branches.covered} uncovered, at most ${allowed?.uncoveredBranches ?? '?'})`,
    );
  }
  console.log(`  report: ${relative(REPO_ROOT, join(COVERAGE_DIR, 'html/index.html'))}`);
  if (values.update) {
    writeFileSync(THRESHOLDS_FILE, `${JSON.stringify(thresholds, null, 2)}\n`);
    console.log(`  thresholds written to ${relative(REPO_ROOT, THRESHOLDS_FILE)}`);
  }
  const over = overThresholds(measured, thresholds);
  for (const line of over) console.error(`coverage: below threshold: ${line}`);
  return over.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main());
