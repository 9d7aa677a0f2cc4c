import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedPositionFor, LEAST_UPPER_BOUND, TraceMap } from '@jridgewell/trace-mapping';
import type { CoverageMap, FileCoverage, Range } from 'istanbul-lib-coverage';
import ts from 'typescript';

/**
 * Credits what spawned processes executed (raw V8 coverage, NODE_V8_COVERAGE) onto the coverage
 * vitest recorded in its workers. The two cannot be merged as they are: vitest converts from the
 * code vite produced, a process ran the code tsx (or the production bundle) produced, and istanbul
 * merges by location, so two conversions of one file would add up to two sets of statements. So the
 * statements, functions and branch arms stay vitest's, and each one vitest saw unexecuted is looked
 * up in each process: its original position, through the process's source map, to a position in
 * the code that process ran, whose count is that of the innermost V8 range around it.
 *
 * A branch arm's position is where its code starts: the consequent of an `if` (an implicit `else`
 * ran as often as the `if` was reached less the consequent), each arm of `?:` and `&&`/`||`/`??`,
 * the first statement of a `switch` case. Default arguments are not looked up: V8 counts no range
 * for them. What cannot be placed stays uncovered: the credit can only be short, never generous.
 */

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface V8Script {
  url: string;
  functions: { ranges: V8Range[] }[];
}
interface V8Dump {
  result: V8Script[];
  'source-map-cache'?: Record<string, CachedMap>;
}

type At = { line: number; column: number };
type CachedMap = { lineLengths: number[]; data: ConstructorParameters<typeof TraceMap>[0] };

/** One script a process ran: the original files it came from, and how often code at a position ran. */
export interface ProcessScript {
  files: string[];
  count(file: string, at: At): number | undefined;
}

function processScript(script: V8Script, cached: CachedMap): ProcessScript {
  const map = new TraceMap(cached.data, script.url);
  const lineStarts: number[] = [];
  let offset = 0;
  for (const length of cached.lineLengths) {
    lineStarts.push(offset);
    offset += length + 1;
  }
  const ranges = script.functions.flatMap((f) => f.ranges);
  const sources = new Map(map.resolvedSources.map((s, i) => [toPath(s), map.sources[i] ?? s]));
  return {
    files: [...sources.keys()],
    count(file, at) {
      const source = sources.get(file);
      if (source === undefined) return undefined;
      const generated = generatedPositionFor(map, {
        source,
        line: at.line,
        column: at.column,
        bias: LEAST_UPPER_BOUND,
      });
      if (generated.line === null) return undefined;
      // Only a mapping on the same original line stands for this position.
      const start = lineStarts[generated.line - 1];
      if (start === undefined) return undefined;
      const position = start + generated.column;
      let innermost: V8Range | undefined;
      for (const r of ranges)
        if (r.startOffset <= position && position < r.endOffset)
          if (!innermost || r.endOffset - r.startOffset < innermost.endOffset - innermost.startOffset)
            innermost = r;
      return innermost?.count;
    },
  };
}

const toPath = (source: string) => (source.startsWith('file://') ? fileURLToPath(source) : source);

/** Every script of every dump under `dir` that was compiled from one of `files`. */
export function readProcessScripts(dir: string, files: Set<string>): Map<string, ProcessScript[]> {
  const byFile = new Map<string, ProcessScript[]>();
  let names: string[] = [];
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.json'));
  } catch {
    return byFile;
  }
  for (const name of names) {
    const dump = JSON.parse(readFileSync(join(dir, name), 'utf8')) as V8Dump;
    const cache = dump['source-map-cache'] ?? {};
    for (const script of dump.result) {
      const cached = cache[script.url];
      if (!cached) continue;
      const mapped = processScript(script, cached);
      for (const file of mapped.files)
        if (files.has(file)) byFile.set(file, [...(byFile.get(file) ?? []), mapped]);
    }
  }
  return byFile;
}

const startOf = (loc: Range): At | undefined =>
  loc.start.line === undefined || loc.start.column === undefined ? undefined : loc.start;

/** Where each arm of each branch of `file` starts, from its source (see the header). */
function branchArmStarts(file: string, coverage: FileCoverage): Map<string, (At | 'else' | undefined)[]> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const at = (node: ts.Node): At => {
    const p = source.getLineAndCharacterOfPosition(node.getStart(source));
    return { line: p.line + 1, column: p.character };
  };
  const ifs = new Map<string, ts.IfStatement>();
  const cases = new Map<string, ts.SwitchStatement>();
  const visit = (node: ts.Node) => {
    const key = `${at(node).line}:${at(node).column}`;
    if (ts.isIfStatement(node)) ifs.set(key, node);
    if (ts.isSwitchStatement(node)) cases.set(key, node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  const arms = new Map<string, (At | 'else' | undefined)[]>();
  for (const [id, branch] of Object.entries(coverage.branchMap)) {
    const start = startOf(branch.loc);
    const key = start && `${start.line}:${start.column}`;
    if (branch.type === 'if') {
      const node = key === undefined ? undefined : ifs.get(key);
      arms.set(
        id,
        node ? [at(node.thenStatement), node.elseStatement ? at(node.elseStatement) : 'else'] : [],
      );
    } else if (branch.type === 'switch') {
      const node = key === undefined ? undefined : cases.get(key);
      arms.set(
        id,
        node ? node.caseBlock.clauses.map((c) => (c.statements[0] ? at(c.statements[0]) : undefined)) : [],
      );
    } else if (branch.type === 'cond-expr' || branch.type === 'binary-expr') {
      arms.set(id, branch.locations.map(startOf));
    } else arms.set(id, []);
  }
  return arms;
}

/** Credits `map` with what `scripts` ran; returns how many statements and branch arms it credited. */
export function creditProcesses(map: CoverageMap, scripts: Map<string, ProcessScript[]>) {
  let statements = 0;
  let branches = 0;
  for (const file of map.files()) {
    const ran = scripts.get(file);
    if (!ran) continue;
    const coverage = map.fileCoverageFor(file);
    const data = coverage.data;
    const count = (at: At | undefined) =>
      at === undefined ? 0 : Math.max(0, ...ran.map((s) => s.count(file, at) ?? 0));
    for (const [id, loc] of Object.entries(data.statementMap))
      if (data.s[id] === 0 && count(startOf(loc)) > 0) {
        data.s[id] = 1;
        statements++;
      }
    for (const [id, fn] of Object.entries(data.fnMap))
      if (data.f[id] === 0 && count(startOf(fn.loc)) > 0) data.f[id] = 1;
    for (const [id, arms] of branchArmStarts(file, coverage)) {
      const hits = data.b[id];
      if (!hits) continue;
      arms.forEach((arm, i) => {
        if (hits[i] !== 0) return;
        const branch = data.branchMap[id];
        const ifStart = branch && startOf(branch.loc);
        const credited =
          arm === 'else'
            ? ran.some((s) => {
                const reached = ifStart && s.count(file, ifStart);
                const then = arms[0] !== 'else' && arms[0] ? s.count(file, arms[0]) : undefined;
                return reached !== undefined && then !== undefined && reached > then;
              })
            : count(arm) > 0;
        if (credited) {
          hits[i] = 1;
          branches++;
        }
      });
    }
  }
  return { statements, branches };
}
