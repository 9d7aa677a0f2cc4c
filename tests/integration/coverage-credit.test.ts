import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import libCoverage, { type FileCoverageData } from 'istanbul-lib-coverage';
import { afterAll, describe, expect, it } from 'vitest';
import { creditProcesses, readProcessScripts } from '../coverage/credit';
import { overThresholds, type PackageCoverage, ratchet } from '../coverage/report';
import { REPO_ROOT, runScript } from '../support/processes';

/**
 * `pnpm coverage` credits what spawned processes ran (tests/coverage/credit.ts) onto the statements
 * and branches vitest recorded, and fails when a package has more uncovered than its threshold.
 * The fixture runs under tsx with NODE_V8_COVERAGE, as the servers of the integration suites do.
 */
const FIXTURE = fileURLToPath(new URL('../coverage/fixtures/branches.ts', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const loc = (line: number, column: number, endColumn = column + 1) => ({
  start: { line, column },
  end: { line, column: endColumn },
});

/** The fixture as vitest would report it when no test loaded it: every count 0. */
function unexecuted(): FileCoverageData {
  return {
    path: FIXTURE,
    statementMap: {
      '0': loc(3, 2), // let label = 'positive'
      '1': loc(4, 2), // if (n <= 0) ...
      '2': loc(4, 14), // label = n === 0 ? ...
      '3': loc(5, 2), // return label
      '4': loc(9, 2), // return 'never'
    },
    s: { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 },
    fnMap: {
      '0': { name: 'choose', decl: loc(2, 16), loc: loc(2, 42), line: 2 },
      '1': { name: 'never', decl: loc(8, 16), loc: loc(8, 32), line: 8 },
    },
    f: { '0': 0, '1': 0 },
    branchMap: {
      '0': { type: 'if', line: 4, loc: loc(4, 2), locations: [loc(4, 2), { start: {}, end: {} } as never] },
      '1': { type: 'cond-expr', line: 4, loc: loc(4, 22), locations: [loc(4, 32), loc(4, 41)] },
    },
    b: { '0': [0, 0], '1': [0, 0] },
  };
}

async function creditedAfter(arg: string) {
  const dir = mkdtempSync(join(tmpdir(), 'chargeonce-coverage-'));
  dirs.push(dir);
  const run = await runScript(FIXTURE, [arg], { NODE_V8_COVERAGE: dir });
  expect(run.code, run.stderr).toBe(0);
  const map = libCoverage.createCoverageMap({ [FIXTURE]: unexecuted() });
  const credited = creditProcesses(map, readProcessScripts(dir, new Set([FIXTURE])));
  return { data: map.fileCoverageFor(FIXTURE).data, credited, stdout: run.stdout.trim() };
}

describe('crediting what a process ran', () => {
  it('credits the statements, functions and branch arms that ran in it, and none that did not', async () => {
    const { data, credited, stdout } = await creditedAfter('1');
    expect(stdout).toBe('positive');
    expect(data.s).toEqual({ '0': 1, '1': 1, '2': 0, '3': 1, '4': 0 });
    expect(data.f).toEqual({ '0': 1, '1': 0 });
    // The if was reached and its consequent skipped: its implicit else ran; the ?: was never reached.
    expect(data.b).toEqual({ '0': [0, 1], '1': [0, 0] });
    expect(credited).toEqual({ statements: 3, branches: 1 });
  });

  it('credits a consequent that ran and not the implicit else it skipped, and each ?: arm apart', async () => {
    const { data, stdout } = await creditedAfter('0');
    expect(stdout).toBe('zero');
    expect(data.s).toEqual({ '0': 1, '1': 1, '2': 1, '3': 1, '4': 0 });
    expect(data.b).toEqual({ '0': [1, 0], '1': [1, 0] });
  });

  it('leaves counts vitest already recorded as they are, and credits nothing without a dump', () => {
    const map = libCoverage.createCoverageMap({
      [FIXTURE]: { ...unexecuted(), s: { ...unexecuted().s, '4': 3 } },
    });
    expect(
      creditProcesses(map, readProcessScripts(join(REPO_ROOT, 'no-such-dir'), new Set([FIXTURE]))),
    ).toEqual({
      statements: 0,
      branches: 0,
    });
    expect(map.fileCoverageFor(FIXTURE).data.s['4']).toBe(3);
  });
});

describe('coverage thresholds', () => {
  const measured = (lines: number, branches: number): PackageCoverage[] => [
    { name: 'payments', lines: { covered: lines, total: 100 }, branches: { covered: branches, total: 50 } },
  ];
  const thresholds = { payments: { uncoveredLines: 10, uncoveredBranches: 5 } };

  it('passes at the threshold and fails one line or one branch past it, naming the package', () => {
    expect(overThresholds(measured(90, 45), thresholds)).toEqual([]);
    expect(overThresholds(measured(89, 45), thresholds)).toEqual([
      'payments: 11 uncovered lines, at most 10',
    ]);
    expect(overThresholds(measured(90, 44), thresholds)).toEqual([
      'payments: 6 uncovered branches, at most 5',
    ]);
  });

  it('fails a package with no threshold, and --update only ever lowers a threshold', () => {
    expect(overThresholds(measured(100, 50), {})).toEqual([
      'payments: no threshold in tests/coverage/thresholds.json',
    ]);
    expect(ratchet(measured(95, 40), thresholds)).toEqual({
      payments: { uncoveredLines: 5, uncoveredBranches: 5 },
    });
  });
});
