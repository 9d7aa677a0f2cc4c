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
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/support/chromium';

/**
 * `docs/bench.svg`'s renderer (issue 15, item 5). Pure: no database. The SVG is parsed by
 * Chromium's strict XML parser (`DOMParser`, `image/svg+xml`), the one GitHub's viewers are
 * closest to, and read back through the DOM rather than by regex on the text.
 */
const s = (min: number, median: number, max: number): Spread => ({ min, median, max });
const lat = (pays: Spread, p50: Spread, p99: Spread, duplicates = 0) => ({
  pays_per_s: pays,
  p50_ms: p50,
  p99_ms: p99,
  duplicates,
});
const storm = (bg: Spread, bgP99: Spread, stormP99: Spread, duplicates: number) => ({
  background_pays_per_s: bg,
  background_p99_ms: bgP99,
  storm_p99_ms: stormP99,
  duplicates,
});

/** The full run of 2026-12-02 at d1f5988 (README, Performance): 5 rounds, median and min-max. */
const RUN = {
  floor: { pays_per_s: s(1860.5, 2134.2, 2540.9) },
  distinct: {
    optimistic: {
      ...lat(s(839.6, 993.7, 1062.1), s(29.5, 31.6, 37.1), s(46.8, 49.7, 73.7)),
      db_round_trips_per_pay: 2,
    },
    pessimistic: {
      ...lat(s(744.4, 785.4, 815.3), s(38.6, 39.6, 41.6), s(54.2, 61.6, 74.4)),
      db_round_trips_per_pay: 4,
    },
    naive: {
      ...lat(s(900.2, 929.8, 987.4), s(32.3, 34, 35.1), s(41.9, 44.9, 58.4)),
      db_round_trips_per_pay: 2,
    },
  },
  hot_storm: {
    optimistic: storm(s(404.5, 410.5, 420.1), s(107.6, 114.8, 124.2), s(167.9, 168.9, 180.7), 0),
    pessimistic: storm(s(114.1, 115.5, 121.2), s(283.8, 295, 324.8), s(284.7, 287.4, 306), 0),
    naive: storm(s(321.4, 323.7, 332.3), s(118.6, 141.2, 158), s(116.2, 128.3, 153.6), 196),
  },
  http: {
    instances_1: lat(s(241.3, 358.9, 380.3), s(83.6, 84.9, 126.9), s(113.8, 174.1, 219.1)),
    instances_3: lat(s(215.9, 270.9, 288.2), s(109.5, 114.5, 140.9), s(179.4, 204.7, 312.5)),
    // The HTTP floor and the open loop as first measured on a quiet machine (issue 15, item 4).
    floor: lat(s(958.2, 1016.4, 1043.9), s(29.1, 30.6, 33.8), s(44.2, 51.7, 66.3)),
    open_loop: {
      rate_per_s: 125,
      instances_1: {
        p50_ms: s(7.9, 8.3, 9.4),
        p99_ms: s(19.8, 22.6, 31.5),
        p999_ms: s(28.4, 35.2, 48.8),
        max_ms: s(36.1, 41.7, 77.3),
      },
      floor: {
        p50_ms: s(3.6, 3.8, 4.1),
        p99_ms: s(6.1, 6.7, 8.2),
        p999_ms: s(9.3, 11.4, 14.6),
        max_ms: s(12.2, 14.1, 19.9),
      },
    },
  },
  pooled: null,
  provider_latency: {
    optimistic: lat(s(465.8, 481.3, 489.1), s(308.8, 312.1, 314.4), s(1649.3, 1875.8, 1961.8)),
    pessimistic: lat(s(22.9, 24, 25.9), s(7378.4, 7688.2, 7963.9), s(8629.4, 9196.8, 9731.2)),
    naive: lat(s(466.6, 481.9, 489.5), s(308.4, 309.2, 314.4), s(1642.6, 1875.5, 1963.4)),
    provider_only: lat(s(476.9, 489.8, 498), s(300.9, 303.7, 305.5), s(1645.7, 1860.6, 1939.4)),
  },
  targets: [],
} as unknown as BenchJson;
const CAPTION = 'Full run 2026-12-02 at d1f5988, 5 rounds alternated; 2 vCPU Intel Xeon, Node 20.20.2';

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
      'http, open loop at 125 pays/s — p50 ms, lower is better',
      'http, open loop at 125 pays/s — p99 ms, lower is better',
    ]);
    const chart = benchChartFrom(RUN, CAPTION);
    chart.panels.forEach((panel, i) => {
      expect(doc.panels[i]!.bars.map((b) => [b.label, b.value])).toEqual(
        panel.bars.map((b) => [b.label, formatValue(b.value.median)]),
      );
    });
    expect(doc.panels[4]!.bars.map((b) => `${b.label}=${b.value}`)).toEqual([
      'optimistic=481',
      'pessimistic=24',
      'naive=482',
      'provider only (ceiling)=490',
    ]);
    // min–max printed under each label, as in the tables.
    expect(doc.texts).toContain('1,649–1,962');
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
    expect(doc.panels[0]!.ticks).toEqual(['0', '1,000', '2,000', '3,000']);
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
    expect(storm!.bars.map((b) => b.label)).toEqual(['optimistic', 'pessimistic', 'naive (196 duplicates)']);
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
