import { describe, expect, it } from 'vitest';
import { type CliIo, integerFlag, parseCommandLine, parseCommandWords } from '../src';

const spec = {
  usage: 'usage: tool [--json] [--runs N]\n  --json    last line is JSON\n',
  options: { json: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } },
} as const;

/** Runs a parse with captured output; an exit becomes a thrown `{ exit }` so the test sees it. */
function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    argv,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    exit: (code) => {
      throw { exit: code };
    },
  };
  try {
    return { values: parseCommandLine(spec, io), out: out.join(''), err: err.join('') };
  } catch (thrown) {
    return { exit: (thrown as { exit: number }).exit, out: out.join(''), err: err.join('') };
  }
}

describe('parseCommandLine', () => {
  it('parses flags, with the leading -- that pnpm passes through', () => {
    expect(run(['--', '--json', '--runs', '5']).values).toEqual({ json: true, runs: '5' });
    expect(run([]).values).toEqual({ json: false, runs: '3' });
  });
  it('--help prints the usage on stdout and exits 0', () => {
    for (const argv of [['--help'], ['--', '-h'], ['--runs', '1', '--help']]) {
      expect(run(argv)).toEqual({ exit: 0, out: spec.usage, err: '' });
    }
  });
  it('an unknown flag, a missing value or a stray argument: reason and usage on stderr, exit 2', () => {
    for (const argv of [['--nope'], ['--runs'], ['extra']]) {
      const result = run(argv);
      expect(result.exit).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toContain(spec.usage.trim());
      expect(result.err).not.toMatch(/\n\s+at /);
    }
  });
  it('integerFlag refuses what is not an integer in bounds', () => {
    const err: string[] = [];
    const capture: CliIo = {
      argv: [],
      stdout: () => {},
      stderr: (t) => err.push(t),
      exit: (code) => {
        throw { exit: code };
      },
    };
    expect(integerFlag(spec, 'runs', '7', { min: 1 }, capture)).toBe(7);
    for (const raw of ['0', '1.5', 'x', '']) {
      expect(() => integerFlag(spec, 'runs', raw, { min: 1 }, capture)).toThrow(
        expect.objectContaining({ exit: 2 }),
      );
    }
    expect(err[0]).toMatch(/--runs must be an integer from 1/);
  });
});

describe('parseCommandWords', () => {
  it('returns the words that are not flags, in order, under the same rules', () => {
    const io: CliIo = {
      argv: ['--', 'tokens', 'revoke', '--json', 'abc'],
      stdout: () => {},
      stderr: () => {},
      exit: (code) => {
        throw { exit: code };
      },
    };
    expect(parseCommandWords(spec, io)).toEqual({
      values: { json: true, runs: '3' },
      words: ['tokens', 'revoke', 'abc'],
    });
    expect(() => parseCommandWords(spec, { ...io, argv: ['tokens', '--bogus'] })).toThrow(
      expect.objectContaining({ exit: 2 }),
    );
  });
});
