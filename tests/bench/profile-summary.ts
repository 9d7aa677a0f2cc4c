/**
 * A V8 `.cpuprofile` (from `node --cpu-prof` or the inspector's Profiler) as text: where the
 * non-idle CPU went, by package and by function (self time). The README commits these summaries,
 * never the profiles.
 */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }>;
  /** Monotonic clock, µs (CLOCK_MONOTONIC on Linux, as `process.hrtime`). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Only samples taken within [fromUs, toUs] of the monotonic clock (e.g. the load, not start-up). */
export interface SampleWindow {
  fromUs: number;
  toUs: number;
}

export interface ProfileSummary {
  /** Sampled CPU time that was not idle, in ms. */
  busyMs: number;
  byPackage: Array<{ name: string; ms: number; share: number }>;
  byFunction: Array<{ name: string; where: string; ms: number; share: number }>;
}

/** Who owns a frame: an npm package, a workspace package, Node itself, or V8's pseudo-frames. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pnpm = /node_modules\/\.pnpm\/(@[^+/]+\+[^@/]+|[^@/]+)@/.exec(url);
  if (pnpm) return pnpm[1]!.replace('+', '/');
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (plain) return plain[1]!;
  const workspace = /\/(packages|apps|tests)\/([^/]+)\//.exec(url);
  if (workspace) return workspace[1] === 'tests' ? '@chargeonce/tests' : `@chargeonce/${workspace[2]}`;
  if (url.startsWith('node:')) return 'node (internals)';
  return url;
}

const IDLE = new Set(['(idle)', '(program)']);

export function summarizeProfile(profile: CpuProfile, window?: SampleWindow, top = 12): ProfileSummary {
  // Self time per node from the samples and their deltas (hitCount alone ignores uneven intervals).
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (us === 0 || IDLE.has(functionName)) continue;
    busyUs += us;
    const owner = ownerOf(url, functionName);
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + us);
    const file = url.split('/').pop() ?? '';
    const where = url === '' ? owner : `${owner} ${file}:${lineNumber + 1}`;
    const key = `${functionName}|${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    busyMs: busyUs / 1000,
    byPackage: [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
    byFunction: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
  };
}

const pct = (s: number) => `${(s * 100).toFixed(1)}%`;

/** Markdown: two small tables, so the README can take them as they are. */
export function formatProfile(title: string, s: ProfileSummary, perPayUs?: number): string {
  const lines = [
    `${title}: ${s.busyMs.toFixed(0)} ms on CPU sampled${perPayUs ? `, ${perPayUs.toFixed(0)} µs per pay` : ''}`,
    '',
    '| self time by package | share |',
    '| -------------------- | ----: |',
    ...s.byPackage.map((p) => `| ${p.name} | ${pct(p.share)} |`),
    '',
    '| hottest functions (self time) | where | share |',
    '| ----------------------------- | ----- | ----: |',
    ...s.byFunction.map((f) => `| ${f.name} | ${f.where} | ${pct(f.share)} |`),
  ];
  return lines.join('\n');
}
