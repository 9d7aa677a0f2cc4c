/**
 * Mutation scores from Stryker's JSON report (mutation-testing-report-schema): per file and overall,
 * as Stryker and mutation-testing-metrics count them. Killed and Timeout are detected; Survived and
 * NoCoverage are not; CompileError, RuntimeError and Ignored do not count either way.
 */
export interface MutationReport {
  files: Record<string, { mutants: Array<{ status: string }> }>;
}

export interface FileScore {
  file: string;
  detected: number;
  undetected: number;
  /** detected / (detected + undetected) × 100, NaN when the file has no scorable mutant. */
  score: number;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const scoreOf = (detected: number, undetected: number) =>
  detected + undetected === 0 ? Number.NaN : (100 * detected) / (detected + undetected);

export function mutationScores(report: MutationReport): { files: FileScore[]; overall: FileScore } {
  const files = Object.entries(report.files)
    .map(([file, { mutants }]) => {
      const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
      const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
      return { file, detected, undetected, score: scoreOf(detected, undetected) };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
  const detected = files.reduce((n, f) => n + f.detected, 0);
  const undetected = files.reduce((n, f) => n + f.undetected, 0);
  return {
    files,
    overall: { file: 'all files', detected, undetected, score: scoreOf(detected, undetected) },
  };
}

/** What fails the run: the overall score under `overall`, or a file's under `perFile` (issue 16: 85 and 80). */
export function belowTargets(
  scores: ReturnType<typeof mutationScores>,
  targets: { overall: number; perFile: number },
): string[] {
  const low = scores.files
    .filter((f) => !(f.score >= targets.perFile) && !Number.isNaN(f.score))
    .map((f) => `${f.file}: ${f.score.toFixed(1)} % < ${targets.perFile} %`);
  if (!(scores.overall.score >= targets.overall))
    low.unshift(`overall: ${scores.overall.score.toFixed(1)} % < ${targets.overall} %`);
  return low;
}
