import type { StoredRecord } from '../checkpoint/history.js';
import { lineChart, type ChartLine } from '../ui/chart.js';

const BEST_GLYPH = '◆';

/**
 * A run's curves as plain text: training loss by step (averaged per dot
 * column, as on the dashboard) and validation loss by step with its best
 * marked. Two charts rather than one in two colours, because plain text has
 * no colour to tell the series apart.
 */
export function historyChart(records: readonly StoredRecord[], width: number): string {
  const steps = records.filter((r) => r.event === 'step' && typeof r.loss === 'number');
  const evals = records.filter((r) => r.event === 'eval' && typeof r.valLoss === 'number');
  const formatX = (x: number): string => `step ${Math.round(x).toLocaleString('en-US')}`;
  const out: string[] = [];
  if (steps.length > 0) {
    const chart = lineChart({
      width,
      height: 10,
      series: [{ xs: steps.map((r) => r.step), ys: steps.map((r) => r.loss as number), color: 'train', average: true }],
      formatX,
    });
    out.push(`train loss (nats/char), ${steps.length.toLocaleString('en-US')} steps`, ...chart.lines.map(text));
  }
  if (evals.length > 0) {
    const best = evals.reduce((a, b) => ((b.valLoss as number) < (a.valLoss as number) ? b : a));
    const chart = lineChart({
      width,
      height: 8,
      series: [{ xs: evals.map((r) => r.step), ys: evals.map((r) => r.valLoss as number), color: 'val' }],
      marker: { x: best.step, y: best.valLoss as number, glyph: BEST_GLYPH, color: 'best' },
      formatX,
    });
    const caption = `val loss (nats/char), ${evals.length} evaluations; ${BEST_GLYPH} best ${(best.valLoss as number).toFixed(4)} at step ${best.step}`;
    out.push(...(out.length ? [''] : []), caption, ...chart.lines.map(text));
  }
  return out.length ? `${out.join('\n')}\n` : 'no steps or evaluations recorded yet\n';
}

const text = (line: ChartLine): string => line.map((c) => c.text).join('').trimEnd();
