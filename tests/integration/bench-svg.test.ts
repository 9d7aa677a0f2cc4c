import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchJson } from '../bench/result';
import type { Spread } from '../bench/stats';
import {
  type BenchChart,
  benchChartFrom,
  formatValue,
  niceTicks,
  renderBenchSvg,
  writeBenchSvg,
} from '../bench/svg';
import type { Verdict } from '../bench/targets';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/support/chromium';
import fixture from './fixtures/bench-2026-12-02.json';

/**
 * `docs/bench.svg`'s renderer (issue 15, item 5). Pure: no database. The SVG is parsed by
 * Chromium's strict XML parser (`DOMParser`, `image/svg+xml`), the one GitHub's viewers are
 * closest to, and read back through the DOM rather than by regex on the text.
 */
const s = (min: number, median: number, max: number): Spread => ({ min, median, max });

/** Every verdict, so the guard below knows them all (a new one is a compile error here). */
const VERDICTS: Record<Verdict, true> = { met: true, missed: true, inconclusive: true };
function verdict(v: string): Verdict {
  if (!Object.hasOwn(VERDICTS, v)) throw new Error(`fixture: unknown verdict ${JSON.stringify(v)}`);
  return v as Verdict;
}

/**
 * The full run of 2026-12-02 at 277b97a (README, Performance; docs/bench.svg), as `pnpm bench --
 * --json` printed it: 5 rounds, each figure a median and min-max. No cast: a field `BenchJson`
 * has and the file lacks is a compile error. JSON cannot carry a string-literal union, so the one
 * there is (a target's verdict) goes through a guard that throws on a value it does not know.
 */
const RUN: BenchJson = {
  ...fixture,
  targets: fixture.targets.map((t) => ({ ...t, verdict: verdict(t.verdict) })),
};
/** The caption the run drew into docs/bench.svg. */
const CAPTION =
  'Full run 2026-12-02, 5 round(s) alternated, bars at the median, whiskers min-max; 2 CPU(s) AMD EPYC, Node v20.20.2';

interface Inspected {
  error: string | null;
  root: string;
  namespace: string;
  scripts: number;
  texts: string[];
  panels: {
    heading: string;
    gridYs: number[];
    ticks: string[];
    bars: {
      label: string;
      value: string;
      rect: { y: number; height: number } | null;
      whisker: { y1: number; y2: number } | null;
    }[];
  }[];
}

/** Runs in the page: parse strictly, report the parser's error or what the DOM holds. */
const INSPECT = `(svg) => {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const error = doc.querySelector('parsererror');
  if (error) return { error: error.textContent || 'parsererror' };
  const all = (el, sel) => Array.from(el.querySelectorAll(sel));
  const num = (el, name) => Number(el.getAttribute(name));
  return {
    error: null,
    root: doc.documentElement.localName,
    namespace: doc.documentElement.namespaceURI,
    scripts: doc.getElementsByTagName('script').length,
    texts: all(doc, 'text').map((t) => t.textContent),
    panels: all(doc, 'g.panel').map((p) => ({
      heading: p.querySelector('tspan.title').textContent + p.querySelector('tspan.unit').textContent,
      gridYs: all(p, 'line.grid').map((l) => num(l, 'y1')),
      ticks: all(p, 'text.tick').map((t) => t.textContent),
      bars: all(p, 'g.bar').map((g) => {
        const rect = g.querySelector('rect.median');
        const whisker = g.querySelector('line.whisker');
        return {
          label: all(g, 'text.label').map((t) => t.textContent).join(' '),
          value: g.querySelector('text.value').textContent,
          rect: rect && { y: num(rect, 'y'), height: num(rect, 'height') },
          whisker: whisker && { y1: num(whisker, 'y1'), y2: num(whisker, 'y2') },
        };
      }),
    })),
  };
}`;

let browser: Browser;
let page: Page;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
});

const inspect = (svg: string) => page.evaluate(`(${INSPECT})(${JSON.stringify(svg)})`) as Promise<Inspected>;
/** The checker a test can rely on: strict XML parse clean and no raw markup where text belongs. */
const wellFormed = async (svg: string) => (await inspect(svg)).error === null && !/<script/i.test(svg);

const sample = renderBenchSvg(benchChartFrom(RUN, CAPTION));

describe('renderBenchSvg on the README run', () => {
  it('is well-formed SVG with ten panels, every bar with its label and its median printed', async () => {
    const doc = await inspect(sample);
    expect(doc.error).toBeNull();
    expect({ root: doc.root, namespace: doc.namespace }).toEqual({
      root: 'svg',
      namespace: 'http://www.w3.org/2000/svg',
    });
    expect(sample).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg [^>]*version="1.1"/);
    expect(sample).toMatch(/<rect x="0" y="0" width="900" height="[\d.]+" fill="#ffffff"\/>/);
    // Self-contained: no stylesheet, script, external reference or web font.
    expect(sample).not.toMatch(/<style|<script|href=|url\(|@import|@font-face/i);
    expect(doc.texts).toContain(CAPTION);
    expect(doc.panels.map((p) => p.heading)).toEqual([
      'distinct — pays/s, higher is better',
      'distinct — p99 ms, lower is better',
      'hot_storm — background pays/s, higher is better',
      'hot_storm — background p99 ms, lower is better',
      'provider_latency — pays/s, higher is better',
      'provider_latency — p99 ms, lower is better',
      'http, closed loop — pays/s, higher is better',
      'http, closed loop — p99 ms, lower is better',
      'http, open loop at 163 pays/s — p50 ms, lower is better',
      'http, open loop at 163 pays/s — p99 ms, lower is better',
    ]);
    const chart = benchChartFrom(RUN, CAPTION);
    chart.panels.forEach((panel, i) => {
      expect(doc.panels[i]!.bars.map((b) => [b.label, b.value])).toEqual(
        panel.bars.map((b) => [b.label, formatValue(b.value.median)]),
      );
    });
    expect(doc.panels[4]!.bars.map((b) => `${b.label}=${b.value}`)).toEqual([
      'optimistic=475',
      'pessimistic=24',
      'naive=475',
      'provider only (ceiling)=488',
    ]);
    // min–max printed under each label, as in the tables.
    expect(doc.texts).toContain('1,658–1,965');
  });

  it('whiskers span min..max at the right pixels; a larger value is a taller bar', async () => {
    const doc = await inspect(sample);
    const chart = benchChartFrom(RUN, CAPTION);
    doc.panels.forEach((panel, i) => {
      const base = Math.max(...panel.gridYs);
      const top = Math.min(...panel.gridYs);
      const axisMax = Number(panel.ticks.at(-1)!.replace(/,/g, ''));
      const at = (v: number) => base - (v / axisMax) * (base - top);
      const bars = chart.panels[i]!.bars;
      panel.bars.forEach((bar, j) => {
        const { min, median, max } = bars[j]!.value;
        expect(bar.rect!.y).toBeCloseTo(at(median), 0);
        expect(bar.rect!.y + bar.rect!.height).toBeCloseTo(base, 0);
        // SVG y grows downwards: min is the lower end of the whisker, max the upper, median between.
        expect(bar.whisker!.y1).toBeCloseTo(at(min), 0);
        expect(bar.whisker!.y2).toBeCloseTo(at(max), 0);
        expect(bar.whisker!.y1).toBeGreaterThanOrEqual(bar.rect!.y);
        expect(bar.rect!.y).toBeGreaterThanOrEqual(bar.whisker!.y2);
        expect(bar.whisker!.y2).toBeGreaterThanOrEqual(top);
      });
      const byMedian = bars.map((b, j) => ({ median: b.value.median, height: panel.bars[j]!.rect!.height }));
      const sorted = [...byMedian].sort((a, b) => a.median - b.median);
      // Larger median, taller bar (medians closer than the 0.1 px rounding may tie).
      for (let k = 1; k < sorted.length; k++) {
        const [lower, higher] = [sorted[k - 1]!, sorted[k]!];
        expect(higher.height).toBeGreaterThanOrEqual(lower.height);
        if (higher.median - lower.median > axisMax / 100) expect(higher.height).toBeGreaterThan(lower.height);
      }
      // The axis starts at 0 with round ticks.
      expect(panel.ticks[0]).toBe('0');
    });
    expect(doc.panels[0]!.ticks).toEqual(['0', '500', '1,000', '1,500', '2,000']);
    expect(doc.panels[5]!.ticks).toEqual(['0', '5,000', '10,000']);
  });

  it('is deterministic: the same input gives the same bytes, a changed figure different ones', () => {
    expect(renderBenchSvg(benchChartFrom(structuredClone(RUN), CAPTION))).toBe(sample);
    const changed = structuredClone(RUN);
    changed.distinct.optimistic.pays_per_s.max = 1100;
    expect(renderBenchSvg(benchChartFrom(changed, CAPTION))).not.toBe(sample);
  });
});

describe('benchChartFrom', () => {
  it('maps the current JSON: strategies per panel, the product highlighted, floor and ceiling as references', () => {
    const chart = benchChartFrom(RUN, CAPTION);
    expect(chart.caption).toBe(CAPTION);
    const [distinct, , storm, , latency, , http, , openP50, openP99] = chart.panels;
    expect(distinct!.bars.map((b) => [b.label, !!b.highlight, !!b.reference])).toEqual([
      ['optimistic', true, false],
      ['pessimistic', false, false],
      ['naive', false, false],
      ['floor (SQL only)', false, true],
    ]);
    expect(distinct!.bars[3]!.value).toEqual(RUN.floor.pays_per_s);
    expect(storm!.bars.map((b) => b.label)).toEqual(['optimistic', 'pessimistic', 'naive (146 duplicates)']);
    expect(storm!.bars[2]!.value).toEqual(RUN.hot_storm.naive.background_pays_per_s);
    // The product over HTTP against the least an HTTP service does here, not against the SQL floor.
    expect(http!.bars.map((b) => [b.label, b.value, !!b.highlight, !!b.reference])).toEqual([
      ['1 server process', RUN.http.instances_1.pays_per_s, true, false],
      ['3 server processes', RUN.http.instances_3.pays_per_s, true, false],
      ['HTTP floor (bare fastify)', RUN.http.floor.pays_per_s, false, true],
    ]);
    // The open loop's p50 then p99; no p99.9: with a few hundred pays a round, that is its max.
    expect(openP50!.bars.map((b) => [b.label, b.value, !!b.reference])).toEqual([
      ['1 server process', RUN.http.open_loop.instances_1.p50_ms, false],
      ['HTTP floor (bare fastify)', RUN.http.open_loop.floor.p50_ms, true],
    ]);
    expect(openP99!.bars.map((b) => [b.label, b.value, !!b.reference])).toEqual([
      ['1 server process', RUN.http.open_loop.instances_1.p99_ms, false],
      ['HTTP floor (bare fastify)', RUN.http.open_loop.floor.p99_ms, true],
    ]);
    expect(latency!.bars[3]).toEqual({
      label: 'provider only (ceiling)',
      value: RUN.provider_latency.provider_only.pays_per_s,
      reference: true,
    });
    expect(chart.panels[5]!.bars[1]!.value).toEqual(RUN.provider_latency.pessimistic.p99_ms);
  });
});

describe('the fixture', () => {
  it('keeps the run as printed: every verdict through the guard unchanged, an unknown one throws', () => {
    expect(RUN.targets.map((t) => t.verdict)).toEqual(fixture.targets.map((t) => t.verdict));
    expect(RUN.targets.filter((t) => t.verdict === 'missed').map((t) => t.target)).toEqual([
      'optimistic WAL bytes per pay <= 1.5x naive',
      'http 1 instance >= 0.5x http floor',
    ]);
    expect(() => verdict('passed')).toThrow('fixture: unknown verdict "passed"');
  });
});

const chartOf = (bars: BenchChart['panels'][number]['bars'], text = 'panel'): BenchChart => ({
  title: text,
  caption: text,
  panels: [{ title: text, unit: text, bars }],
});

describe('hostile text and degenerate figures', () => {
  const HOSTILE = '<script>&"';

  it('escapes every text: labels, titles, units, caption', async () => {
    const svg = renderBenchSvg({
      title: `A & B <title>`,
      caption: `'quoted' "and" <b>bold</b>`,
      panels: [{ title: HOSTILE, unit: '</text>', bars: [{ label: HOSTILE, value: s(1, 2, 3) }] }],
    });
    expect(svg).not.toMatch(/<script/i);
    expect(svg).toContain('&lt;script&gt;&amp;&quot;');
    expect(svg).not.toContain('<b>');
    const doc = await inspect(svg);
    expect(doc.error).toBeNull();
    expect(doc.scripts).toBe(0);
    // Escaped once, not twice: the DOM gives back the original text.
    expect(doc.panels[0]!.bars[0]!.label).toBe(HOSTILE);
    expect(doc.panels[0]!.heading).toBe(`${HOSTILE} — </text>`);
    expect(doc.texts).toEqual(expect.arrayContaining(['A & B <title>', `'quoted' "and" <b>bold</b>`]));
    expect(await wellFormed(svg)).toBe(true);
  });

  it('companion: the checker flags an unescaped variant of the same output', async () => {
    const svg = renderBenchSvg(chartOf([{ label: HOSTILE, value: s(1, 2, 3) }]));
    const raw = svg.replaceAll('&lt;script&gt;&amp;&quot;', HOSTILE);
    expect(raw).not.toBe(svg);
    expect((await inspect(raw)).error).not.toBeNull();
    expect(await wellFormed(raw)).toBe(false);
    // A lone raw ampersand alone is enough for the strict parser.
    const amp = renderBenchSvg(chartOf([{ label: 'a & b', value: s(1, 2, 3) }])).replace(
      'a &amp; b',
      'a & b',
    );
    expect((await inspect(amp)).error).not.toBeNull();
  });

  it('characters XML cannot carry (NUL, controls, lone surrogates) become U+FFFD, still well-formed', async () => {
    const label = 'a\u0000b\u0007c\ud800d\ufffe';
    const svg = renderBenchSvg(chartOf([{ label, value: s(1, 2, 3) }]));
    const doc = await inspect(svg);
    expect(doc.error).toBeNull();
    expect(doc.panels[0]!.bars[0]!.label).toBe('a\ufffdb\ufffdc\ufffdd\ufffd');
    // Tab and newline are legal XML and pass through escapeXml; the label wraps on whitespace.
    expect(renderBenchSvg(chartOf([{ label: 'x\ty', value: s(1, 1, 1) }]))).toContain('>x y<');
  });

  it('NaN, infinite, zero and negative spreads draw no NaN: n/a, an empty bar, an axis 0..1', async () => {
    const svg = renderBenchSvg(
      chartOf([
        { label: 'nan', value: s(Number.NaN, Number.NaN, Number.NaN) },
        { label: 'zero', value: s(0, 0, 0) },
        { label: 'inf', value: s(0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY) },
        { label: 'half', value: s(Number.NaN, 0, Number.NaN) },
        { label: 'negative', value: s(-5, -1, 0) },
      ]),
    );
    expect(svg).not.toMatch(/NaN|Infinity/);
    const doc = await inspect(svg);
    expect(doc.error).toBeNull();
    const [nan, zero, inf, half, negative] = doc.panels[0]!.bars;
    expect(nan).toMatchObject({ value: 'n/a', rect: null, whisker: null });
    expect(inf).toMatchObject({ value: 'n/a', rect: null, whisker: null });
    expect(zero).toMatchObject({ value: '0', rect: { height: 0 }, whisker: null });
    expect(half).toMatchObject({ value: '0', rect: { height: 0 }, whisker: null });
    // Below the axis is clamped to 0: the bar and whisker stay inside the plot.
    expect(negative).toMatchObject({ value: '-1', rect: { height: 0 } });
    expect(negative!.whisker!.y1).toBe(negative!.whisker!.y2);
    expect(doc.panels[0]!.ticks).toEqual(['0', '0.5', '1']);
    // No panels at all still gives a valid picture.
    expect((await inspect(renderBenchSvg({ title: 't', caption: 'c', panels: [] }))).error).toBeNull();
  });
});

describe('helpers', () => {
  it('niceTicks: from 0, steps of 1, 2 or 5 × 10^k, the top at or above the max, a few ticks', () => {
    expect(niceTicks(2540.9)).toEqual([0, 1000, 2000, 3000]);
    expect(niceTicks(9731.2)).toEqual([0, 5000, 10000]);
    expect(niceTicks(73.7)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    for (const max of [0.0007, 0.013, 1, 3, 7.5, 24, 99, 100, 101, 499.9, 1234, 5e6, 123456789]) {
      const ticks = niceTicks(max);
      const step = ticks[1]! - ticks[0]!;
      const lead = Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6));
      expect({ max, first: ticks[0], lead: [1, 2, 5].includes(lead) }).toEqual({ max, first: 0, lead: true });
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
      expect(ticks.at(-2)!).toBeLessThan(max);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(6);
      // No floating-point residue such as 0.30000000000000004.
      for (const t of ticks) expect(t).toBe(Number(t.toPrecision(6)));
    }
  });

  it('formatValue: whole from 100 with thousands commas, 1 decimal from 10, 2 below, n/a if not finite', () => {
    expect([2134.2, 49.75, 24, 0.473, -0.001, 1e6, -1500.4].map(formatValue)).toEqual([
      '2,134',
      '49.8',
      '24',
      '0.47',
      '0',
      '1,000,000',
      '-1,500',
    ]);
    expect([Number.NaN, Number.POSITIVE_INFINITY].map(formatValue)).toEqual(['n/a', 'n/a']);
  });

  it('writeBenchSvg creates the folder and writes the bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-svg-'));
    try {
      const path = join(dir, 'docs', 'nested', 'bench.svg');
      writeBenchSvg(path, sample);
      expect(readFileSync(path, 'utf8')).toBe(sample);
      writeBenchSvg(path, sample); // the folder exists now: no error
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
