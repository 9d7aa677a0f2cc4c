import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BenchJson, LatencyFigures, OpenLoopFigures } from './result';
import type { Spread } from './stats';

/**
 * `docs/bench.svg` (issue 15, item 5): one bar chart per workload and figure, each bar at the
 * median over rounds with a whisker from min to max. The renderer takes this small chart type
 * rather than `BenchJson`, so the JSON can grow without touching the drawing; `benchChartFrom`
 * is the one place that maps the JSON onto panels.
 */
export interface ChartBar {
  label: string;
  value: Spread;
  /** The product's own bar (drawn in the accent colour, label in bold). */
  highlight?: boolean;
  /** A bound to compare with, not a strategy (floor, provider-only ceiling): drawn outlined. */
  reference?: boolean;
}
export interface ChartPanel {
  title: string;
  unit: string;
  /** Printed next to the unit so a reader knows which way is good. */
  better?: 'higher' | 'lower';
  bars: ChartBar[];
}
export interface BenchChart {
  title: string;
  /** Machine, date, run kind: printed under the title as given. */
  caption: string;
  panels: ChartPanel[];
}

const WIDTH = 900;
const MARGIN = 16;
const COLUMNS = 2;
const PANEL_W = (WIDTH - 2 * MARGIN - (COLUMNS - 1) * MARGIN) / COLUMNS;
const PANEL_H = 250;
const HEADER_H = 92;
const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
const INK = '#1f2328';
const MUTED = '#59636e';
const GRID = '#e6e9ed';
const ACCENT = '#0969da';
const OTHER = '#8c959f';
const REFERENCE_FILL = '#eef1f4';

/** XML 1.0's Char production: C0 controls (but tab, LF, CR), lone surrogates, U+FFFE/U+FFFF are out. */
const isXmlChar = (cp: number) =>
  cp >= 0x20 ? (cp < 0xd800 || cp > 0xdfff) && cp !== 0xfffe && cp !== 0xffff : [0x9, 0xa, 0xd].includes(cp);

/** Text and attribute values: the five XML specials as entities, forbidden characters as U+FFFD. */
export function escapeXml(text: string): string {
  return Array.from(text, (ch) => (isXmlChar(ch.codePointAt(0)!) ? ch : '\ufffd'))
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate: one decimal, so the same input gives the same bytes and no `NaN` ever leaks. */
const px = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0');

/** A printed value: whole numbers from 100, one decimal from 10, two below; `n/a` if not finite. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const decimals = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const [int, frac] = Math.abs(v).toFixed(decimals).split('.') as [string, string | undefined];
  const trimmed = frac?.replace(/0+$/, '');
  const text = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (trimmed ? `.${trimmed}` : '');
  return v < 0 && text !== '0' ? `-${text}` : text;
}

/**
 * Axis from 0 to the first multiple of a round step (1, 2 or 5 × 10^k) at or above `max`, in
 * about `count` steps. A max that is not a positive number gives the axis 0..1.
 */
export function niceTicks(max: number, count = 4): number[] {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  const steps = Math.max(1, Math.ceil(top / step - 1e-9));
  return Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

const finite = (values: number[]) => values.filter((v) => Number.isFinite(v));

const MIDDLE = 'text-anchor="middle"';
const BOLD = 'font-weight="600"';

function text(x: number, y: number, s: string, cls: string, size: number, fill = INK, extra = ''): string {
  const attrs = `class="${cls}" font-size="${size}" fill="${fill}"${extra ? ` ${extra}` : ''}`;
  return `<text x="${px(x)}" y="${px(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

/**
 * Split a label into at most two lines of about `chars` characters, before a parenthesis when
 * that makes both fit, else on spaces; the rest elided.
 */
function wrap(label: string, chars: number): string[] {
  const paren = label.indexOf(' (');
  if (label.length > chars && paren > 0 && paren <= chars && label.length - paren - 1 <= chars)
    return [label.slice(0, paren), label.slice(paren + 1)];
  const lines: string[] = [];
  let line = '';
  for (const word of label.split(/\s+/).filter(Boolean)) {
    if (line && `${line} ${word}`.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length <= 2) return lines;
  const second = `${lines[1]} ${lines.slice(2).join(' ')}`;
  return [lines[0]!, `${second.slice(0, Math.max(1, chars - 1))}…`];
}

/** A 1.5 px line in ink (whiskers, caps), or 1 px in `stroke` (grid). */
const line = (x1: number, y1: number, x2: number, y2: number, cls = '', stroke = INK) =>
  `<line${cls ? ` class="${cls}"` : ''} x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}" stroke-width="${stroke === INK ? 1.5 : 1}"/>`;

const rangeText = (s: Spread) =>
  Number.isFinite(s.min) && Number.isFinite(s.max) && s.min !== s.max
    ? `${formatValue(s.min)}–${formatValue(s.max)}`
    : '';

function renderBar(bar: ChartBar, cx: number, barW: number, slotW: number, y: (v: number) => number) {
  const { min, median, max } = bar.value;
  const base = y(0);
  const out: string[] = [
    `<g class="bar">`,
    `<title>${escapeXml(`${bar.label}: ${describe(bar.value)}`)}</title>`,
  ];
  if (Number.isFinite(median)) {
    const top = y(Math.max(0, median));
    const fill = bar.highlight ? ACCENT : bar.reference ? REFERENCE_FILL : OTHER;
    const stroke = bar.reference ? ` stroke="${MUTED}" stroke-width="1" stroke-dasharray="4 3"` : '';
    out.push(
      `<rect class="median" x="${px(cx - barW / 2)}" y="${px(top)}" width="${px(barW)}" height="${px(base - top)}" fill="${fill}"${stroke}/>`,
    );
  }
  const whisker = Number.isFinite(min) && Number.isFinite(max) && max > min;
  if (whisker) {
    const [y1, y2] = [y(Math.max(0, min)), y(Math.max(0, max))];
    out.push(line(cx, y1, cx, y2, 'whisker'), line(cx - 6, y1, cx + 6, y1), line(cx - 6, y2, cx + 6, y2));
  }
  const labelTop = y(Math.max(0, ...finite([median, whisker ? max : Number.NaN])));
  out.push(text(cx, labelTop - 5, formatValue(median), 'value', 12, INK, `${MIDDLE} ${BOLD}`));
  const lines = wrap(bar.label, Math.floor(slotW / 6.4));
  lines.forEach((line, i) => {
    out.push(
      text(cx, base + 15 + i * 13, line, 'label', 11, INK, bar.highlight ? `${MIDDLE} ${BOLD}` : MIDDLE),
    );
  });
  const range = rangeText(bar.value);
  if (range) out.push(text(cx, base + 17 + lines.length * 13, range, 'range', 10, MUTED, MIDDLE));
  out.push('</g>');
  return out.join('');
}

const describe = (s: Spread) => {
  const range = rangeText(s);
  return range ? `median ${formatValue(s.median)}, min–max ${range}` : formatValue(s.median);
};

function renderPanel(panel: ChartPanel, x: number, y0: number): string {
  const plot = { left: x + 56, right: x + PANEL_W - 14, top: y0 + 54, bottom: y0 + PANEL_H - 58 };
  const values = finite(panel.bars.flatMap((b) => [b.value.min, b.value.median, b.value.max]));
  const ticks = niceTicks(Math.max(0, ...values));
  const axisMax = ticks.at(-1)!;
  const y = (v: number) => plot.bottom - (v / axisMax) * (plot.bottom - plot.top);
  const out: string[] = [
    `<g class="panel">`,
    `<rect x="${px(x)}" y="${px(y0)}" width="${px(PANEL_W)}" height="${px(PANEL_H)}" rx="6" fill="#ffffff" stroke="#d1d9e0"/>`,
    `<text x="${px(x + 14)}" y="${px(y0 + 24)}" font-size="14" fill="${INK}"><tspan class="title" font-weight="600">${escapeXml(panel.title)}</tspan><tspan class="unit" fill="${MUTED}"> — ${escapeXml(panel.unit)}${panel.better ? `, ${panel.better} is better` : ''}</tspan></text>`,
  ];
  for (const tick of ticks) {
    const ty = y(tick);
    out.push(
      line(plot.left, ty, plot.right, ty, 'grid', tick === 0 ? MUTED : GRID),
      text(plot.left - 6, ty + 4, formatValue(tick), 'tick', 10, MUTED, 'text-anchor="end"'),
    );
  }
  const slotW = (plot.right - plot.left) / Math.max(1, panel.bars.length);
  const barW = Math.min(44, slotW * 0.55);
  out.push(...panel.bars.map((bar, i) => renderBar(bar, plot.left + slotW * (i + 0.5), barW, slotW, y)));
  out.push('</g>');
  return out.join('\n');
}

function renderLegend(y: number): string {
  const key = (x: number, fill: string, label: string, dashed = false) =>
    `<rect x="${px(x)}" y="${px(y - 9)}" width="12" height="10" fill="${fill}"${dashed ? ` stroke="${MUTED}" stroke-dasharray="3 2"` : ''}/>` +
    text(x + 17, y, label, 'legend', 11, MUTED);
  const whisker =
    line(584, y - 10, 584, y + 1) +
    text(594, y, 'bar: median over rounds; whisker: min–max', 'legend', 11, MUTED);
  return [
    key(MARGIN, ACCENT, 'chargeonce (optimistic)'),
    key(MARGIN + 170, OTHER, 'other strategies'),
    key(MARGIN + 290, REFERENCE_FILL, 'reference: floor, provider-only ceiling', true),
    whisker,
  ].join('');
}

/** The whole picture: deterministic (same chart → same bytes), self-contained SVG 1.1. */
export function renderBenchSvg(chart: BenchChart): string {
  const rows = Math.max(1, Math.ceil(chart.panels.length / COLUMNS));
  const height = HEADER_H + rows * (PANEL_H + MARGIN);
  const panels = chart.panels.map((panel, i) =>
    renderPanel(
      panel,
      MARGIN + (i % COLUMNS) * (PANEL_W + MARGIN),
      HEADER_H + Math.floor(i / COLUMNS) * (PANEL_H + MARGIN),
    ),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${WIDTH}" height="${px(height)}" viewBox="0 0 ${WIDTH} ${px(height)}" font-family="${escapeXml(FONT)}" role="img">`,
    `<title>${escapeXml(`${chart.title}. ${chart.caption}`)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${px(height)}" fill="#ffffff"/>`,
    text(MARGIN, 30, chart.title, 'chart-title', 18, INK, BOLD),
    text(MARGIN, 52, chart.caption, 'caption', 12, MUTED),
    renderLegend(76),
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes the picture, creating its folder (`docs/`) when missing. */
export function writeBenchSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}

const STRATEGY_ORDER = ['optimistic', 'pessimistic', 'naive'] as const;

/** The three strategies' `figure`; a strategy that double-charged says so in its label. */
function strategyBars<C extends { duplicates: number }>(
  cells: Record<(typeof STRATEGY_ORDER)[number], C>,
  figure: (cell: C) => Spread,
): ChartBar[] {
  return STRATEGY_ORDER.map((s) => {
    const { duplicates } = cells[s];
    const label = duplicates > 0 ? `${s} (${duplicates} duplicates)` : s;
    return { label, value: figure(cells[s]), highlight: s === 'optimistic' };
  });
}

const panel = (title: string, unit: string, better: ChartPanel['better'], bars: ChartBar[]): ChartPanel => ({
  title,
  unit,
  better,
  bars,
});

const HTTP_FLOOR = 'HTTP floor (bare fastify)';

/** The product on 1 and 3 server processes, and the HTTP floor as the reference. */
function httpBars(json: BenchJson, figure: (cell: LatencyFigures) => Spread): ChartBar[] {
  const { instances_1, instances_3, floor } = json.http;
  return [
    { label: '1 server process', value: figure(instances_1), highlight: true },
    { label: '3 server processes', value: figure(instances_3), highlight: true },
    { label: HTTP_FLOOR, value: figure(floor), reference: true },
  ];
}

/** The open-loop figures that are spreads over rounds (not counts such as duplicates). */
type OpenLoopSpread = {
  [K in keyof OpenLoopFigures]: OpenLoopFigures[K] extends Spread ? K : never;
}[keyof OpenLoopFigures];

/** The open loop's percentile on one server process, and on the HTTP floor as the reference. */
function openBars(open: BenchJson['http']['open_loop'], figure: OpenLoopSpread): ChartBar[] {
  return [
    { label: '1 server process', value: open.instances_1[figure], highlight: true },
    { label: HTTP_FLOOR, value: open.floor[figure], reference: true },
  ];
}

/**
 * The panels from the current JSON: throughput and p99 per strategy per workload, the floor and
 * the provider-only ceiling as reference bars; the open loop's p50 and p99 (not p99.9: a round
 * has a few hundred pays, so its p99.9 is its max). Extend here when the JSON grows.
 */
export function benchChartFrom(json: BenchJson, caption: string): BenchChart {
  const floor: ChartBar = { label: 'floor (SQL only)', value: json.floor.pays_per_s, reference: true };
  const latency = json.provider_latency;
  const open = json.http.open_loop;
  const ceiling = (value: Spread): ChartBar => ({ label: 'provider only (ceiling)', value, reference: true });
  const panels = [
    panel('distinct', 'pays/s', 'higher', [...strategyBars(json.distinct, (c) => c.pays_per_s), floor]),
    panel(
      'distinct',
      'p99 ms',
      'lower',
      strategyBars(json.distinct, (c) => c.p99_ms),
    ),
    panel(
      'hot_storm',
      'background pays/s',
      'higher',
      strategyBars(json.hot_storm, (c) => c.background_pays_per_s),
    ),
    panel(
      'hot_storm',
      'background p99 ms',
      'lower',
      strategyBars(json.hot_storm, (c) => c.background_p99_ms),
    ),
    panel('provider_latency', 'pays/s', 'higher', [
      ...strategyBars(latency, (c) => c.pays_per_s),
      ceiling(latency.provider_only.pays_per_s),
    ]),
    panel('provider_latency', 'p99 ms', 'lower', [
      ...strategyBars(latency, (c) => c.p99_ms),
      ceiling(latency.provider_only.p99_ms),
    ]),
    panel(
      'http, closed loop',
      'pays/s',
      'higher',
      httpBars(json, (c) => c.pays_per_s),
    ),
    panel(
      'http, closed loop',
      'p99 ms',
      'lower',
      httpBars(json, (c) => c.p99_ms),
    ),
    panel(`http, open loop at ${open.rate_per_s} pays/s`, 'p50 ms', 'lower', openBars(open, 'p50_ms')),
    panel(`http, open loop at ${open.rate_per_s} pays/s`, 'p99 ms', 'lower', openBars(open, 'p99_ms')),
  ];
  return { title: 'chargeonce bench: throughput and p99 per strategy, per workload', caption, panels };
}
