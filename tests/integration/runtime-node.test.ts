import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `engines` must name exactly what CI tests: .ci/run runs the pipeline on Node 24 and the unit and
 * integration suites on the machine's Node 20, each with CHARGEONCE_EXPECT_NODE_MAJOR set, so a run
 * that silently fell back to another Node (a PATH not taking, a tool with its own node) fails here.
 */
const rootPackage = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
) as {
  engines: { node: string };
};

/** The `^MAJOR.MINOR.PATCH` alternatives of an engines range (the only form this project uses). */
function caretRanges(range: string): { major: number; minor: number; patch: number }[] {
  return range.split('||').map((part) => {
    const match = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!match) throw new Error(`engines.node: "${part.trim()}" is not a ^MAJOR.MINOR.PATCH range`);
    return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
  });
}

function admits(range: string, version: string): boolean {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number) as [number, number, number];
  return caretRanges(range).some(
    (r) => major === r.major && (minor > r.minor || (minor === r.minor && patch >= r.patch)),
  );
}

describe('the Node.js this runs on', () => {
  it('is admitted by engines, and is the major CI asked for', () => {
    expect(
      admits(rootPackage.engines.node, process.version),
      `${process.version} vs ${rootPackage.engines.node}`,
    ).toBe(true);
    const expected = process.env.CHARGEONCE_EXPECT_NODE_MAJOR;
    if (expected) expect(process.versions.node.split('.')[0]).toBe(expected);
  });

  it('is also what a child process started through PATH gets (the servers the suites start)', () => {
    const child = spawnSync('node', ['-p', 'process.version'], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe(process.version);
  });

  it('engines check rejects what is not tested (the check can fail)', () => {
    expect(admits('^20.19.0 || ^24.11.0', 'v22.12.0')).toBe(false);
    expect(admits('^20.19.0 || ^24.11.0', 'v20.18.1')).toBe(false);
    expect(admits('^20.19.0 || ^24.11.0', 'v24.22.3')).toBe(true);
    expect(admits('^20.19.0 || ^24.11.0', 'v20.20.2')).toBe(true);
    expect(() => caretRanges('>=20')).toThrow(/not a \^MAJOR/);
  });
});
