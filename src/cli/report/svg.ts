import type { ScoredRun } from '../../train/compare.js';
import type { CompareReport } from './report.js';

/** One colour per report row (cell × tokenizer); seeds of a row share it and differ by dash. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const DASHES = ['', '7 4', '2 3', '10 3 2 3'];

const WIDTH = 1160;
const PANEL_W = 380;
const PANEL_H = 300;
const TOP = 70;
// Each panel leaves ~130 px on its right for run names, before the next panel's axis labels.
const LEFT = [80, 660];
const LABEL_GAP = 13;
// A generic family only: an SVG that names a font the viewer lacks renders differently everywhere.
const FONT = 'font-family="sans-serif"';

interface Line {
  readonly run: ScoredRun;
  readonly color: string;
  readonly dash: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
function ticks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const label = (t: number): string => (Math.abs(t) >= 1000 ? `${t / 1000}k` : String(t));

/**
 * Validation bits per character of the text (one scale for every tokenizer,
 * the one the target is on) against step (left) and against training time
 * (right), one line per run with its name at the line's end, and the target as
 * a dashed line; names that would collide are pushed apart vertically and
 * joined to their line by a short leader.
 */
export function renderSvg(r: CompareReport): string {
  const rowIndex = new Map(r.rows.map((row, i) => [`${row.cell}\u0000${row.tokenizer}`, i]));
  const lines: Line[] = r.runs
    .filter((run) => run.curve.length > 0)
    .map((run) => ({
      run,
      color: PALETTE[(rowIndex.get(`${run.cell}\u0000${run.tokenizer}`) ?? 0) % PALETTE.length],
      dash: DASHES[(run.seed - 1) % DASHES.length],
    }));
  const target = r.target.bpc;
  const ys = [...lines.flatMap((l) => l.run.curve.map((p) => p.textBpc)), ...(target === null ? [] : [target])];
  let yLo = ys.length ? Math.min(...ys) : 0;
  let yHi = ys.length ? Math.max(...ys) : 1;
  const pad = (yHi - yLo) * 0.05 || 0.1;
  yLo -= pad;
  yHi += pad;
  const legendRows = r.rows.length;
  const height = TOP + PANEL_H + 60 + legendRows * 22 + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold" fill="#222">${esc(`charlm compare: ${r.corpus.name}`)}</text>`,
    `<text x="${WIDTH / 2}" y="48" text-anchor="middle" font-size="12" fill="#555">${esc(subtitle(r))}</text>`,
  ];
  const panels: { x: (p: ScoredRun['curve'][number]) => number; title: string; axis: string; format: (t: number) => string }[] = [
    { x: (p) => p.step, title: 'validation bits per character by step', axis: 'step', format: label },
    { x: (p) => p.trainMs / 1000, title: 'validation bits per character by training time', axis: 'training time (s)', format: label },
  ];
  panels.forEach((panel, k) => {
    const left = LEFT[k];
    const xs = lines.flatMap((l) => l.run.curve.map(panel.x));
    const xLo = 0;
    const xHi = xs.length ? Math.max(...xs) : 1;
    const px = (x: number): number => left + ((x - xLo) / (xHi - xLo || 1)) * PANEL_W;
    const py = (y: number): number => TOP + PANEL_H - ((y - yLo) / (yHi - yLo)) * PANEL_H;
    parts.push(`<text x="${left + PANEL_W / 2}" y="${TOP - 8}" text-anchor="middle" font-size="13" fill="#222">${panel.title}</text>`);
    for (const t of ticks(yLo, yHi, 5)) {
      parts.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e4e4e4"/>`);
      parts.push(`<text x="${left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#444">${t}</text>`);
    }
    for (const t of ticks(xLo, xHi, 6)) {
      parts.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${TOP}" y2="${TOP + PANEL_H}" stroke="#f0f0f0"/>`);
      parts.push(`<text x="${px(t).toFixed(1)}" y="${TOP + PANEL_H + 16}" text-anchor="middle" font-size="11" fill="#444">${panel.format(t)}</text>`);
    }
    parts.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 34}" text-anchor="middle" font-size="12" fill="#222">${panel.axis}</text>`);
    parts.push(
      `<text transform="translate(${left - 48} ${TOP + PANEL_H / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">val bits/char</text>`,
    );
    if (target !== null) {
      const y = py(target).toFixed(1);
      parts.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y}" y2="${y}" stroke="#555" stroke-width="1.2" stroke-dasharray="6 4"/>`);
      parts.push(`<text x="${left + 4}" y="${(py(target) - 4).toFixed(1)}" font-size="10" fill="#555">${esc(`target ${target.toFixed(3)}`)}</text>`);
    }
    const ends: { y: number; line: Line; x: number; ly: number }[] = [];
    for (const line of lines) {
      const pts = line.run.curve.map((p) => `${px(panel.x(p)).toFixed(1)},${py(p.textBpc).toFixed(1)}`);
      const dash = line.dash ? ` stroke-dasharray="${line.dash}"` : '';
      if (pts.length === 1) parts.push(`<circle cx="${pts[0].split(',')[0]}" cy="${pts[0].split(',')[1]}" r="3" fill="${line.color}"/>`);
      else parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${line.color}" stroke-width="2.2"${dash} stroke-linejoin="round"/>`);
      const last = line.run.curve[line.run.curve.length - 1];
      ends.push({ y: py(last.textBpc), ly: py(last.textBpc), line, x: px(panel.x(last)) });
    }
    // Labels sit to the right of the plot, in the gap before the next panel, at their line's last height or pushed apart.
    ends.sort((a, b) => a.y - b.y);
    for (let i = 1; i < ends.length; i++) ends[i].ly = Math.max(ends[i].ly, ends[i - 1].ly + LABEL_GAP);
    const overflow = ends.length ? ends[ends.length - 1].ly - (TOP + PANEL_H) : 0;
    if (overflow > 0) for (const e of ends) e.ly -= overflow;
    for (let i = ends.length - 2; i >= 0; i--) ends[i].ly = Math.min(ends[i].ly, ends[i + 1].ly - LABEL_GAP);
    for (const e of ends) {
      const lx = left + PANEL_W + 8;
      parts.push(`<polyline points="${e.x.toFixed(1)},${e.y.toFixed(1)} ${lx - 2},${e.ly.toFixed(1)}" fill="none" stroke="${e.line.color}" stroke-width="0.8"/>`);
      parts.push(`<text x="${lx}" y="${(e.ly + 4).toFixed(1)}" font-size="11" fill="${e.line.color}">${esc(e.line.run.run)}</text>`);
    }
  });
  // Legend: one entry per row (colour), then what the dashes mean.
  const ly = TOP + PANEL_H + 62;
  r.rows.forEach((row, i) => {
    const x = LEFT[0];
    const y = ly + i * 22;
    const color = PALETTE[i % PALETTE.length];
    const mean = row.meanValBitsPerByte === null ? '—' : row.meanValBitsPerByte.toFixed(3);
    const text = `${row.cell} · ${row.tokenizer} · hidden ${row.hidden} · ${row.params} params · ${mean} bits/byte${row.best ? ' ★ best' : ''}`;
    parts.push(`<line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${x + 32}" y="${y + 4}" font-size="12" fill="#222"${row.best ? ' font-weight="bold"' : ''}>${esc(text)}</text>`);
  });
  if (r.seeds > 1) {
    const y = ly + legendRows * 22;
    const names = DASHES.slice(0, Math.min(r.seeds, DASHES.length)).map((_, i) => `seed ${i + 1}: ${i === 0 ? 'solid' : ['dashed', 'dotted', 'dash-dot'][i - 1]}`);
    parts.push(`<text x="${LEFT[0]}" y="${y + 4}" font-size="11" fill="#555">${esc(`${names.join(' · ')}${r.seeds > DASHES.length ? ' (then repeating)' : ''}`)}</text>`);
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

function subtitle(r: CompareReport): string {
  const budget = [r.budget.steps !== undefined && `${r.budget.steps} steps`, r.budget.minutes !== undefined && `${r.budget.minutes} min`].filter(Boolean).join(' or ');
  const match = r.match === 'params' ? `parameters matched to LSTM hidden ${r.model.hidden}` : `hidden ${r.model.hidden} for all`;
  return `${r.model.layers} layers · ${match} · batch ${r.training.batch}×${r.training.seq} · ${budget} · ${r.seeds} seed${r.seeds > 1 ? 's' : ''}`;
}
