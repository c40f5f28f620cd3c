import { describe, expect, it } from 'vitest';
import { lineChart, type ChartLine } from '../../src/ui/chart.js';

const text = (line: ChartLine): string => line.map((c) => c.text).join('');

describe('lineChart', () => {
  it('is exactly the width asked for, height rows of plot plus an axis and its labels', () => {
    const xs = Array.from({ length: 500 }, (_, i) => i + 1);
    const { lines } = lineChart({ width: 60, height: 8, series: [{ xs, ys: xs.map((x) => 4 / Math.sqrt(x)), color: 'cyan', average: true }] });
    expect(lines).toHaveLength(10);
    for (const l of lines.slice(0, 9)) expect([...text(l)]).toHaveLength(60);
    expect(text(lines[0])).toMatch(/^4\.00┤/);
    expect(text(lines[7])).toMatch(/^0\.18┤/);
    expect(text(lines[8])).toMatch(/^ {4}└─+$/);
    expect(text(lines[9])).toMatch(/^ {4}1 +500$/);
  });

  it('draws a falling series from the top-left towards the bottom-right in braille', () => {
    const xs = [0, 1, 2, 3];
    const { lines } = lineChart({ width: 20, height: 4, series: [{ xs, ys: [3, 2, 1, 0], color: 'cyan' }] });
    const plot = lines.slice(0, 4).map((l) => text(l).slice(5));
    expect(plot[0][0]).toMatch(/[\u2801-\u28ff]/);
    expect(plot[3].trimEnd().at(-1)).toMatch(/[\u2801-\u28ff]/);
    expect(plot[0].trim().length).toBeLessThan(plot[0].length);
  });

  it('lets a second series start part-way along x and colours its cells', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    const { lines } = lineChart({
      width: 40,
      height: 6,
      series: [
        { xs, ys: xs.map(() => 2), color: 'cyan' },
        { xs: [50, 100], ys: [1, 1], color: 'yellow' },
      ],
    });
    const yellow = lines.flatMap((l) => l.filter((c) => c.color === 'yellow'));
    expect(yellow.length).toBeGreaterThan(0);
    // Nothing of the second series left of x = 50, about the middle of the plot.
    const row = lines.find((l) => l.some((c) => c.color === 'yellow'))!;
    const before = text(row).indexOf(row.find((c) => c.color === 'yellow')!.text);
    expect(before).toBeGreaterThan(15);
  });

  it('marks a point with its glyph', () => {
    const { lines } = lineChart({
      width: 30,
      height: 5,
      series: [{ xs: [0, 10, 20], ys: [3, 1, 2], color: 'yellow' }],
      marker: { x: 10, y: 1, glyph: '◆', color: 'green' },
    });
    const marked = lines.map(text).filter((l) => l.includes('◆'));
    expect(marked).toHaveLength(1);
    expect(lines[4].some((c) => c.text.includes('◆') && c.color === 'green')).toBe(true);
  });

  it('survives no points, one point, flat lines and NaN', () => {
    for (const ys of [[], [2], [2, 2, 2], [NaN, 1, Infinity, 2]]) {
      const xs = ys.map((_, i) => i);
      const { lines } = lineChart({ width: 30, height: 4, series: [{ xs, ys, color: 'cyan', average: true }] });
      expect(lines).toHaveLength(6);
      for (const l of lines.slice(0, 5)) expect([...text(l)].length).toBe(30);
    }
  });
});
