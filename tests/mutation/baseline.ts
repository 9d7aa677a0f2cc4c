import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { MutationReport } from './scores';

/**
 * The committed mutation baseline: Stryker's incremental file, gzipped (it holds the sources it
 * was measured on, so it packs well). A fresh checkout starts from it, and Stryker re-tests only
 * the mutants whose code or covering tests changed since.
 */

export const mutantsIn = (report: Pick<MutationReport, 'files'>) =>
  Object.values(report.files).reduce((n, f) => n + f.mutants.length, 0);

/** Packs `incremental` into `baseline`: how many mutants it holds, and the packed size. */
export function writeBaseline(incremental: string, baseline: string): { tested: number; bytes: number } {
  const json = readFileSync(incremental);
  const tested = mutantsIn(JSON.parse(json.toString('utf8')) as MutationReport);
  const packed = gzipSync(json, { level: 9 });
  writeFileSync(baseline, packed);
  return { tested, bytes: packed.length };
}

/**
 * Unpacks `baseline` into `incremental` unless that exists already (a checkout's own results are
 * newer) or there is no baseline: undefined then, else how many mutants it holds.
 */
export function readBaseline(baseline: string, incremental: string): { tested: number } | undefined {
  if (existsSync(incremental) || !existsSync(baseline)) return undefined;
  const json = gunzipSync(readFileSync(baseline));
  const tested = mutantsIn(JSON.parse(json.toString('utf8')) as MutationReport);
  mkdirSync(dirname(incremental), { recursive: true });
  writeFileSync(incremental, json);
  return { tested };
}
