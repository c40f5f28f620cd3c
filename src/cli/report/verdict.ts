import type { ReportRow } from '../../train/compare.js';
import type { CompareReport } from './report.js';
import { criticalT, welch } from './welch.js';

type Metric = (row: ReportRow) => number | null;

/** The rows that have the metric, best first. */
function ranked(rows: readonly ReportRow[], metric: Metric, lowerIsBetter: boolean): { row: ReportRow; x: number }[] {
  return rows
    .map((row) => ({ row, x: metric(row) }))
    .filter((e): e is { row: ReportRow; x: number } => e.x !== null)
    .sort((a, b) => (lowerIsBetter ? a.x - b.x : b.x - a.x));
}

const f = (x: number, d: number): string => x.toFixed(d);

/**
 * The paragraph report.md opens with: which row was best on quality, speed,
 * memory and time to target, and whether the quality lead is larger than the
 * seeds' spread. Written from the report's numbers alone.
 */
export function renderVerdict(r: CompareReport): string {
  const tokenizers = new Set(r.rows.map((row) => row.tokenizer));
  const name = (row: ReportRow): string => `**${tokenizers.size > 1 ? `${row.cell} (${row.tokenizer})` : row.cell}**`;
  const quality = ranked(r.rows, (row) => row.meanValBitsPerByte, true);
  if (quality.length < 2) return 'Verdict: fewer than two configurations finished, so there is nothing to compare.';
  const sentences = [`Best on quality: ${name(quality[0].row)} at ${f(quality[0].x, 4)} validation bits per byte, against ${name(quality[1].row)}'s ${f(quality[1].x, 4)}; ${spread(r, quality[0].row, quality[1].row)}.`];

  const speed = ranked(r.rows, (row) => row.meanCharsPerSec, false);
  if (speed.length >= 2) {
    sentences.push(
      speed[0].x === speed[1].x
        ? `Speed: ${name(speed[0].row)} and ${name(speed[1].row)} tie at ${f(speed[0].x, 0)} training chars/s.`
        : `Fastest: ${name(speed[0].row)} at ${f(speed[0].x, 0)} training chars/s (${ratio(speed[0].x, speed[1].x)}× ${name(speed[1].row)}).`,
    );
  }

  const memory = ranked(r.rows, (row) => row.meanPeakRssMb, true);
  const working = ranked(r.rows, (row) => row.meanWorkingSetMb, true);
  if (memory.length >= 2 && working.length >= 2) {
    const smallest = `${name(working[0].row)} is smallest (${f(working[0].x, 1)} MB)`;
    // Peak RSS moves in pages and the allocator reuses freed memory, so small models often tie (at +0 MB even).
    if (f(memory[0].x, 1) === f(memory[1].x, 1)) {
      sentences.push(`Memory: ${name(memory[0].row)} and ${name(memory[1].row)} tie at peak RSS +${f(memory[0].x, 1)} MB; by the working set from the shapes ${smallest}.`);
    } else {
      sentences.push(
        `Least memory: ${name(memory[0].row)}, peak RSS +${f(memory[0].x, 1)} MB against ${name(memory[1].row)}'s +${f(memory[1].x, 1)} MB; ` +
          (memory[0].row === working[0].row ? `its working set from the shapes is also the smallest (${f(working[0].x, 1)} MB).` : `by the working set from the shapes ${smallest}.`),
      );
    }
  }

  if (r.target.bpc !== null) {
    const target = `${f(r.target.bpc, 4)} bits per character${r.target.requested ? '' : " (the worst run's best)"}`;
    const reached = ranked(r.rows, (row) => row.meanSecondsToTarget, true);
    const missed = r.rows.filter((row) => row.meanSecondsToTarget === null).map(name);
    const rest = missed.length ? `; ${missed.join(', ')} did not reach it on every seed` : '';
    sentences.push(
      reached.length
        ? `First to the target of ${target}: ${name(reached[0].row)} after ${f(reached[0].x, 1)} training seconds (step ${f(reached[0].row.meanStepsToTarget ?? 0, 0)})${reached.length > 1 ? `, against ${name(reached[1].row)}'s ${f(reached[1].x, 1)}` : ''}${rest}.`
        : `No configuration reached the target of ${target} on every seed.`,
    );
  }
  return `Verdict: ${sentences.join(' ')}`;
}

/** Whether the quality lead of `a` over `b` is more than the seeds' spread. */
function spread(r: CompareReport, a: ReportRow, b: ReportRow): string {
  const diff = (b.meanValBitsPerByte as number) - (a.meanValBitsPerByte as number);
  const sa = a.sdValBitsPerByte;
  const sb = b.sdValBitsPerByte;
  if (r.seeds < 2 || sa === null || sa === undefined || sb === null || sb === undefined) {
    return `a difference of ${f(diff, 4)} from one seed, whose spread is unknown (--seeds 2 or more tells)`;
  }
  if (diff <= Math.max(sa, sb)) return `a difference of ${f(diff, 4)}, within one sd of the seeds (${f(Math.max(sa, sb), 4)}): the seeds do not separate them`;
  const w = welch({ mean: b.meanValBitsPerByte as number, sd: sb, n: b.seeds }, { mean: a.meanValBitsPerByte as number, sd: sa, n: a.seeds });
  if (w === null) return `a difference of ${f(diff, 4)}, more than one sd of the seeds`;
  const t = Number.isFinite(w.t) ? f(Math.abs(w.t), 2) : '∞';
  return w.significant
    ? `a difference of ${f(diff, 4)}, larger than the seeds' spread (Welch t = ${t}, df ${f(w.df, 1)}, above the 95% value ${f(criticalT(w.df), 2)})`
    : `a difference of ${f(diff, 4)}, more than one sd but not clearly beyond the seeds' spread (Welch t = ${t}, df ${f(w.df, 1)}; 95% needs ${f(criticalT(w.df), 2)})`;
}

const ratio = (a: number, b: number): string => (b > 0 ? f(a / b, 2) : '—');
