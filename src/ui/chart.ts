/**
 * A line chart drawn with braille dots (2×4 per cell), so an 8-row chart has
 * 32 levels of resolution. Hand-written rather than asciichart: the loss chart
 * needs a second series that starts part-way along the axis (validation comes
 * every --eval-every steps), a marked point (the best validation loss), and
 * gaps; asciichart 1.5 starts every series at x = 0, has no markers, and
 * breaks on NaN.
 */

export interface Series {
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number>;
  readonly color: string;
  /**
   * Average every point that falls in one dot column: a noisy per-step series
   * then reads as its trend, and thousands of points cost one pass.
   */
  readonly average?: boolean;
}

export interface Marker {
  readonly x: number;
  readonly y: number;
  readonly glyph: string;
  readonly color: string;
}

export interface ChartSpec {
  /** Whole width in cells, labels included. */
  readonly width: number;
  /** Rows of plot (the axis and its labels come on top of these). */
  readonly height: number;
  readonly series: readonly Series[];
  readonly marker?: Marker | null;
  readonly formatY?: (y: number) => string;
  readonly formatX?: (x: number) => string;
}

export interface Cell {
  readonly text: string;
  readonly color?: string;
}

/** One line of the chart as coloured runs, left to right. */
export type ChartLine = readonly Cell[];

const BRAILLE = 0x2800;
// Dot bit of (column within cell, row within cell), per the Unicode braille layout.
const DOT = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];

export interface ChartResult {
  /** `height` plot rows, then the x axis, then the x labels. */
  readonly lines: readonly ChartLine[];
  readonly yMin: number;
  readonly yMax: number;
}

/** Lays out the chart; empty series give an empty frame of the same size. */
export function lineChart(spec: ChartSpec): ChartResult {
  const formatY = spec.formatY ?? ((y: number) => y.toFixed(2));
  const formatX = spec.formatX ?? ((x: number) => String(Math.round(x)));
  const height = Math.max(1, spec.height);

  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of spec.series) {
    for (let i = 0; i < s.xs.length; i++) {
      const x = s.xs[i];
      const y = s.ys[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  const empty = xMin > xMax;
  if (empty) {
    xMin = 0;
    xMax = 1;
    yMin = 0;
    yMax = 1;
  }
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5;
    yMax += 0.5;
  }

  const labels = [formatY(yMax), formatY((yMin + yMax) / 2), formatY(yMin)];
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const cols = Math.max(1, spec.width - labelWidth - 1);
  const px = cols * 2;
  const py = height * 4;
  const dots = new Uint8Array(cols * height);
  const colors: (string | undefined)[] = new Array(cols * height);

  const toPx = (x: number): number => (xMax === xMin ? 0 : Math.round(((x - xMin) / (xMax - xMin)) * (px - 1)));
  const toPy = (y: number): number => Math.round(((yMax - y) / (yMax - yMin)) * (py - 1));
  const plot = (x: number, y: number, color: string): void => {
    if (x < 0 || x >= px || y < 0 || y >= py) return;
    const cell = Math.floor(y / 4) * cols + Math.floor(x / 2);
    dots[cell] |= DOT[x % 2][y % 4];
    colors[cell] = color;
  };
  const line = (x0: number, y0: number, x1: number, y1: number, color: string): void => {
    // Bresenham: every dot between two samples, so steep drops stay connected.
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      plot(x0, y0, color);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  };

  for (const s of empty ? [] : spec.series) {
    const points = s.average ? averaged(s, toPx, px) : raw(s, toPx);
    let prev: [number, number] | null = null;
    for (const [x, y] of points) {
      const p: [number, number] = [x, toPy(y)];
      if (prev) line(prev[0], prev[1], p[0], p[1], s.color);
      else plot(p[0], p[1], s.color);
      prev = p;
    }
  }

  const glyphs: Cell[][] = [];
  for (let r = 0; r < height; r++) {
    const row: Cell[] = [];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      row.push(dots[i] ? { text: String.fromCharCode(BRAILLE + dots[i]), color: colors[i] } : { text: ' ' });
    }
    glyphs.push(row);
  }
  const m = spec.marker;
  if (m && !empty && Number.isFinite(m.x) && Number.isFinite(m.y)) {
    const r = Math.min(height - 1, Math.max(0, Math.floor(toPy(m.y) / 4)));
    const c = Math.min(cols - 1, Math.max(0, Math.floor(toPx(m.x) / 2)));
    glyphs[r][c] = { text: m.glyph, color: m.color };
  }

  const mid = Math.floor((height - 1) / 2);
  const lines: ChartLine[] = glyphs.map((row, r) => {
    const label = r === 0 ? labels[0] : r === height - 1 ? labels[2] : r === mid && height >= 5 ? labels[1] : '';
    return merge([{ text: label.padStart(labelWidth) + (label ? '┤' : '│'), color: 'gray' }, ...row]);
  });
  lines.push([{ text: `${' '.repeat(labelWidth)}└${'─'.repeat(cols)}`, color: 'gray' }]);
  const left = empty ? '' : formatX(xMin);
  const right = empty ? '' : formatX(xMax);
  const gap = Math.max(1, cols + 1 - left.length - right.length);
  lines.push([{ text: `${' '.repeat(labelWidth)}${left}${right && xMax !== xMin ? ' '.repeat(gap) + right : ''}`, color: 'gray' }]);
  return { lines, yMin, yMax };
}

function raw(s: Series, toPx: (x: number) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < s.xs.length; i++) {
    if (Number.isFinite(s.xs[i]) && Number.isFinite(s.ys[i])) out.push([toPx(s.xs[i]), s.ys[i]]);
  }
  return out;
}

function averaged(s: Series, toPx: (x: number) => number, px: number): [number, number][] {
  const sum = new Float64Array(px);
  const n = new Uint32Array(px);
  for (let i = 0; i < s.xs.length; i++) {
    const x = s.xs[i];
    const y = s.ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const c = toPx(x);
    sum[c] += y;
    n[c] += 1;
  }
  const out: [number, number][] = [];
  for (let c = 0; c < px; c++) if (n[c] > 0) out.push([c, sum[c] / n[c]]);
  return out;
}

/** Joins neighbouring cells of one colour, so Ink gets a handful of spans per line, not one per cell. */
function merge(cells: readonly Cell[]): Cell[] {
  const out: Cell[] = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last.color === c.color) out[out.length - 1] = { text: last.text + c.text, color: c.color };
    else out.push(c);
  }
  return out;
}
