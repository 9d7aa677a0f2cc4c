import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { MutationReport } from './scores';

/**
 * The committed mutation baseline: Stryker's incremental file, gzipped (it holds the sources it
 * was measured on, so it packs well), and beside it what Stryker's own diff cannot see: a digest
 * of the configs, the shared test support and the lockfile it was measured with. A fresh checkout
 * starts from it, and Stryker re-tests only the mutants whose code or covering tests changed since.
 */

export const mutantsIn = (report: Pick<MutationReport, 'files'>) =>
  Object.values(report.files).reduce((n, f) => n + f.mutants.length, 0);

const readReport = (json: Buffer) => JSON.parse(json.toString('utf8')) as MutationReport;
const inputsFile = (baseline: string) => baseline.replace(/\.json\.gz$/, '.inputs.json');

/** Every file under `paths` (files or folders), relative to `root`, sorted. */
function filesUnder(root: string, paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    else out.push(relative(root, p));
  };
  for (const p of paths) walk(join(root, p));
  return out.sort();
}

/** SHA-256 per file of what a result depends on beyond the mutated code and the test files. */
export function inputsDigest(root: string, paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    filesUnder(root, paths).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(root, f)))
        .digest('hex'),
    ]),
  );
}

/**
 * Packs `incremental` into `baseline` with `inputs` beside it. Refuses (`shrinks`) to replace a
 * baseline holding more mutants (a run over part of the scope) unless `replace`.
 */
export function writeBaseline(
  incremental: string,
  baseline: string,
  inputs: Record<string, string>,
  options: { replace?: boolean } = {},
): { tested: number; bytes: number } | { shrinks: { from: number; to: number } } {
  const json = readFileSync(incremental);
  const tested = mutantsIn(readReport(json));
  if (!options.replace && existsSync(baseline)) {
    const before = mutantsIn(readReport(gunzipSync(readFileSync(baseline))));
    if (tested < before) return { shrinks: { from: before, to: tested } };
  }
  const packed = gzipSync(json, { level: 9 });
  writeFileSync(baseline, packed);
  writeFileSync(inputsFile(baseline), `${JSON.stringify(inputs, null, 2)}\n`);
  return { tested, bytes: packed.length };
}

/**
 * Unpacks `baseline` into `incremental` unless that exists already (a checkout's own results are
 * newer) or there is no baseline: undefined then; else how many mutants it holds, and the inputs
 * that differ from `inputs` now (the baseline may be stale there: `pnpm mutate -- --force`).
 */
export function readBaseline(
  baseline: string,
  incremental: string,
  inputs: Record<string, string>,
): { tested: number; changed: string[] } | undefined {
  if (existsSync(incremental) || !existsSync(baseline)) return undefined;
  const json = gunzipSync(readFileSync(baseline));
  const tested = mutantsIn(readReport(json));
  mkdirSync(dirname(incremental), { recursive: true });
  writeFileSync(incremental, json);
  const recorded: Record<string, string> = existsSync(inputsFile(baseline))
    ? JSON.parse(readFileSync(inputsFile(baseline), 'utf8'))
    : {};
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(inputs)])].sort();
  return { tested, changed: names.filter((n) => recorded[n] !== inputs[n]) };
}
