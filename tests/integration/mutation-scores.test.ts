import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inputsDigest, readBaseline, writeBaseline } from '../mutation/baseline';
import { belowTargets, mutationScores } from '../mutation/scores';

/** `pnpm mutate`'s verdict over a Stryker JSON report (tests/mutation/scores.ts). Pure: no database. */
const report = (files: Record<string, string[]>) => ({
  files: Object.fromEntries(
    Object.entries(files).map(([f, statuses]) => [f, { mutants: statuses.map((status) => ({ status })) }]),
  ),
});

describe('mutationScores', () => {
  it('counts Killed and Timeout as detected, Survived and NoCoverage as not, and nothing else', () => {
    const scores = mutationScores(
      report({
        'b.ts': ['Killed', 'Killed', 'Timeout', 'Survived', 'CompileError', 'Ignored', 'RuntimeError'],
        'a.ts': ['Killed', 'NoCoverage'],
      }),
    );
    expect(scores.files.map((f) => [f.file, f.detected, f.undetected, f.score])).toEqual([
      ['a.ts', 1, 1, 50],
      ['b.ts', 3, 1, 75],
    ]);
    expect(scores.overall).toEqual({ file: 'all files', detected: 4, undetected: 2, score: 400 / 6 });
  });

  it('fails below 85 % overall or 80 % in any file, naming each; a file with nothing scorable is not a failure', () => {
    const targets = { overall: 85, perFile: 80 };
    const nine = Array.from({ length: 9 }, () => 'Killed');
    // 18 of 20 overall (90 %), but one file at 80 % exactly passes and one at 100 %.
    expect(
      belowTargets(
        mutationScores(
          report({ 'a.ts': [...nine, 'Survived'], 'b.ts': nine.concat('Killed'), 'c.ts': ['Ignored'] }),
        ),
        targets,
      ),
    ).toEqual([]);
    expect(
      belowTargets(
        mutationScores(report({ 'a.ts': ['Killed', 'Killed', 'Killed', 'Survived'], 'b.ts': nine })),
        targets,
      ),
    ).toEqual(['a.ts: 75.0 % < 80 %']);
    expect(belowTargets(mutationScores(report({ 'a.ts': ['Killed', 'Survived'] })), targets)).toEqual([
      'overall: 50.0 % < 85 %',
      'a.ts: 50.0 % < 80 %',
    ]);
    // Nothing scorable at all is a failure overall (NaN is not >= 85), not a silent pass.
    expect(belowTargets(mutationScores(report({})), targets)).toEqual(['overall: NaN % < 85 %']);
  });
});

describe('the committed baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mutation-baseline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = (files: Record<string, string[]>) => JSON.stringify(report(files));

  it('packs the incremental file and gives it back byte for byte to a checkout that has none, never over its own', () => {
    const incremental = join(dir, 'run/stryker-incremental.json');
    const baseline = join(dir, 'baseline.json.gz');
    const measured = text({ 'a.ts': ['Killed', 'Survived'], 'b.ts': ['NoCoverage'] });
    expect(readBaseline(baseline, incremental, {})).toBeUndefined(); // nothing committed yet
    const source = join(dir, 'measured.json');
    writeFileSync(source, measured);
    expect(writeBaseline(source, baseline, { 'x.ts': 'h1' })).toEqual({
      tested: 3,
      bytes: expect.any(Number),
    });
    expect(readBaseline(baseline, incremental, { 'x.ts': 'h1' })).toEqual({ tested: 3, changed: [] });
    expect(readFileSync(incremental, 'utf8')).toBe(measured);
    // The checkout's own results are newer than the committed ones: left alone.
    writeFileSync(incremental, '{"files":{}}');
    expect(readBaseline(baseline, incremental, {})).toBeUndefined();
    expect(readFileSync(incremental, 'utf8')).toBe('{"files":{}}');
  });

  it('names the inputs Stryker cannot see that changed since, and is not shrunk by a run over part of the scope', () => {
    const baseline = join(dir, 'two.json.gz');
    const source = join(dir, 'two.json');
    writeFileSync(source, text({ 'a.ts': ['Killed', 'Killed'] }));
    writeBaseline(source, baseline, { 'config.mjs': 'h1', 'support.ts': 'h2' });
    expect(
      readBaseline(baseline, join(dir, 'fresh/incremental.json'), {
        'config.mjs': 'h1',
        'support.ts': 'h3',
        'new.ts': 'h4',
      }),
    ).toEqual({ tested: 2, changed: ['new.ts', 'support.ts'] });
    writeFileSync(source, text({ 'a.ts': ['Killed'] }));
    expect(writeBaseline(source, baseline, {})).toEqual({ shrinks: { from: 2, to: 1 } });
    expect(writeBaseline(source, baseline, {}, { replace: true })).toMatchObject({ tested: 1 });
  });

  it('digests every file under the inputs it is given, by path', () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'support/deep'), { recursive: true });
    writeFileSync(join(root, 'config.mjs'), 'a');
    writeFileSync(join(root, 'support/deep/x.ts'), 'b');
    const digest = inputsDigest(root, ['config.mjs', 'support', 'missing.json']);
    expect(Object.keys(digest)).toEqual(['config.mjs', 'support/deep/x.ts']);
    writeFileSync(join(root, 'support/deep/x.ts'), 'c');
    expect(inputsDigest(root, ['support'])['support/deep/x.ts']).not.toBe(digest['support/deep/x.ts']);
  });
});
