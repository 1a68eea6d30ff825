// The /cluster lag chart: lag per replica over a window, drawn as SVG and rasterised to PNG by
// resvg. Two panels share the time axis: bytes behind, and replay delay in seconds.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';
import { mkdirPrivate, writePrivate } from '../core/private-files.js';
import { UserError } from '../errors.js';
import type { LagSample } from './lag-history.js';

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 560;
const LEFT = 92;
const RIGHT = 28;
const PANELS = [
  { top: 96, height: 170, metric: 0 as const, label: 'lag behind the primary (bytes)' },
  { top: 322, height: 170, metric: 1 as const, label: 'replay delay (seconds)' },
];
const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

export interface ChartSeries {
  node: string;
  color: string;
  points: number;
  lastBytes: number | null;
  lastSeconds: number | null;
  maxBytes: number;
  maxSeconds: number;
}

export interface ChartInput {
  samples: LagSample[];
  from: number;
  to: number;
  title: string;
  /** [warn, crit] per panel: drawn as dashed lines when they fall inside the scale. */
  thresholds: { bytes: [number, number]; seconds: [number, number] };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (metric: 0 | 1, v: number) => (metric === 0 ? formatBytes(Math.round(v)) : formatSeconds(v));

/** The top of the scale: 4 grid steps of 1, 2, 2.5 or 5 × 10^n (bytes in units of 1024^k). */
function niceMax(v: number, metric: 0 | 1): number {
  const floor = metric === 0 ? 1024 : 1;
  const step = Math.max(v * 1.05, floor) / 4;
  const base = metric === 0 ? 1024 ** Math.max(0, Math.floor(Math.log(step) / Math.log(1024))) : 1;
  const scaled = step / base;
  const p = 10 ** Math.floor(Math.log10(scaled));
  const m = [1, 2, 2.5, 5, 10].find((k) => k * p >= scaled)!;
  return 4 * m * p * base;
}

export function replicasIn(samples: LagSample[]): string[] {
  const seen = new Set<string>();
  for (const s of samples) for (const n of Object.keys(s.lag)) seen.add(n);
  return [...seen];
}

export function buildLagSvg(input: ChartInput, nodeOrder: string[]): { svg: string; series: ChartSeries[] } {
  const { samples, from, to } = input;
  const present = replicasIn(samples);
  const replicas = [...nodeOrder.filter((n) => present.includes(n)), ...present.filter((n) => !nodeOrder.includes(n))];
  const plotW = CHART_WIDTH - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * plotW;
  // A gap much longer than the usual spacing (the bot was down) breaks the line.
  const diffs = samples.slice(1).map((s, i) => s.t - samples[i].t).sort((a, b) => a - b);
  const gap = Math.max(5 * (diffs[Math.floor(diffs.length / 2)] ?? 0), 1000);
  const series: ChartSeries[] = replicas.map((node, i) => {
    const vals = samples.map((s) => s.lag[node]).filter((v) => v !== undefined);
    const last = vals.at(-1);
    return {
      node,
      color: COLORS[i % COLORS.length],
      points: vals.length,
      lastBytes: last?.[0] ?? null,
      lastSeconds: last?.[1] ?? null,
      maxBytes: Math.max(0, ...vals.map((v) => v[0] ?? 0)),
      maxSeconds: Math.max(0, ...vals.map((v) => v[1] ?? 0)),
    };
  });
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="30" font-size="18" font-weight="bold" fill="#222">${esc(input.title)}</text>`,
  ];
  let lx = LEFT;
  for (const s of series) {
    const label = `${s.node} (now ${formatBytes(s.lastBytes)} / ${formatSeconds(s.lastSeconds)})`;
    parts.push(`<rect x="${lx}" y="46" width="14" height="14" fill="${s.color}"/>`, `<text x="${lx + 20}" y="58" font-size="13" fill="#222">${esc(label)}</text>`);
    lx += 20 + label.length * 7.5 + 24;
  }
  for (const panel of PANELS) {
    const { top, height, metric } = panel;
    const yMax = niceMax(Math.max(0, ...series.map((s) => (metric === 0 ? s.maxBytes : s.maxSeconds))), metric);
    const y = (v: number) => top + height - (Math.min(v, yMax) / yMax) * height;
    parts.push(`<text x="${LEFT}" y="${top - 8}" font-size="13" fill="#444">${panel.label}</text>`);
    for (let g = 0; g <= 4; g++) {
      const v = (yMax * g) / 4;
      parts.push(
        `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${g === 0 ? '#888' : '#e4e4e4'}" stroke-width="1"/>`,
        `<text x="${LEFT - 8}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${esc(fmt(metric, v))}</text>`,
      );
    }
    const [warn, crit] = metric === 0 ? input.thresholds.bytes : input.thresholds.seconds;
    for (const [v, color, name] of [[warn, '#ff9800', 'warn'], [crit, '#d62728', 'crit']] as const) {
      if (v > 0 && v <= yMax) {
        parts.push(`<line class="threshold" x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${color}" stroke-dasharray="6 4" stroke-width="1.5"/>`);
        parts.push(`<text x="${LEFT + plotW - 4}" y="${(y(v) - 4).toFixed(1)}" font-size="10" text-anchor="end" fill="${color}">${name} ${esc(fmt(metric, v))}</text>`);
      }
    }
    for (const s of series) {
      const segments: Array<Array<[number, number]>> = [];
      let current: Array<[number, number]> = [];
      let prevT = -Infinity;
      for (const sample of samples) {
        const v = sample.lag[s.node]?.[metric];
        if (v === undefined || v === null || sample.t - prevT > gap) {
          if (current.length) segments.push(current);
          current = [];
        }
        if (v !== undefined && v !== null) current.push([x(sample.t), y(v)]);
        prevT = sample.t;
      }
      if (current.length) segments.push(current);
      const d = segments
        .filter((seg) => seg.length > 1)
        .map((seg) => seg.map(([px, py], k) => `${k ? 'L' : 'M'}${px.toFixed(1)} ${py.toFixed(1)}`).join(' '))
        .join(' ');
      parts.push(`<path class="series" data-node="${esc(s.node)}" data-panel="${metric === 0 ? 'bytes' : 'seconds'}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`);
      for (const seg of segments.filter((sg) => sg.length === 1)) {
        parts.push(`<circle cx="${seg[0][0].toFixed(1)}" cy="${seg[0][1].toFixed(1)}" r="3" fill="${s.color}"/>`);
      }
    }
  }
  const axisY = PANELS[1].top + PANELS[1].height;
  const span = to - from;
  for (let k = 0; k <= 6; k++) {
    const t = from + (span * k) / 6;
    const iso = new Date(t).toISOString();
    const label = span <= 15 * 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 18}" font-size="11" text-anchor="middle" fill="#555">${label}</text>`);
  }
  parts.push(`<text x="${LEFT + plotW}" y="${axisY + 40}" font-size="11" text-anchor="end" fill="#777">time (UTC) · ${samples.length} samples</text>`, '</svg>');
  return { svg: parts.join('\n'), series };
}

export async function svgToPng(svg: string): Promise<{ png: Buffer; width: number; height: number }> {
  // A native module: loaded when a chart is drawn, not on every start of the CLI.
  const { Resvg } = await import('@resvg/resvg-js').catch(() => {
    throw new UserError('the chart renderer (@resvg/resvg-js) is not installed for this platform', 'run npm ci (it ships prebuilt binaries for Linux, macOS and Windows)', 'prerequisite');
  });
  const rendered = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render();
  return { png: rendered.asPng(), width: rendered.width, height: rendered.height };
}

/** Write the chart files, keeping only the newest `keep` charts in the folder. */
export function saveChart(dir: string, png: Buffer, svg: string, keep = 20): { pngPath: string; svgPath: string; filename: string } {
  mkdirPrivate(dir);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = `lag-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
  const pngPath = `${dir}/${base}.png`;
  const svgPath = `${dir}/${base}.svg`;
  writePrivate(pngPath, png);
  writePrivate(svgPath, svg);
  const old = readdirSync(dir)
    .filter((f) => /^lag-.*\.png$/.test(f))
    .map((f) => ({ f, m: statSync(`${dir}/${f}`).mtimeMs }))
    .sort((a, b) => b.m - a.m)
    .slice(keep);
  for (const { f } of old) {
    rmSync(`${dir}/${f}`, { force: true });
    rmSync(`${dir}/${f.replace(/\.png$/, '.svg')}`, { force: true });
  }
  return { pngPath, svgPath, filename: `${base}.png` };
}
