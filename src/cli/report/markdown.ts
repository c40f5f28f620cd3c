import { relative } from 'node:path';
import type { ReportRow, ScoredRun } from '../../train/compare.js';
import type { CompareReport } from './report.js';
import { renderVerdict } from './verdict.js';

const num = (x: number | null | undefined, digits: number): string => (x === null || x === undefined ? '—' : x.toFixed(digits));

/** "mean ± sd" with two or more seeds; the mean alone with one, so nothing pretends to know a spread. */
function cell(row: ReportRow, mean: number | null, sd: number | null | undefined, digits: number, withSd: boolean): string {
  if (!withSd) return num(mean, digits);
  return sd === null || sd === undefined ? `${num(mean, digits)} ± —` : `${num(mean, digits)} ± ${num(sd, digits)}`;
}

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(1);
}

/** "not reached" rather than a dash: a run that never got there is a result, not a missing number. */
function toTarget(row: ReportRow, mean: number | null, sd: number | null | undefined, digits: number, withSd: boolean): string {
  if (mean === null) return row.reachedTarget === 0 ? 'not reached' : `not reached by ${row.seeds - row.reachedTarget} of ${row.seeds} seeds`;
  return cell(row, mean, sd, digits, withSd);
}

function rate(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

/** `dir` is the report's folder: checkpoint paths are written relative to it. */
export function renderMarkdown(r: CompareReport, dir: string): string {
  const withSd = r.seeds > 1;
  const budget = [r.budget.steps !== undefined && `${r.budget.steps} steps`, r.budget.minutes !== undefined && `${r.budget.minutes} minutes`].filter(Boolean).join(' or ');
  const lines: string[] = [
    `# charlm compare: ${r.corpus.name}`,
    '',
    renderVerdict(r),
    '',
    `${r.corpus.name} (${r.corpus.bytes} bytes, ${r.corpus.source}) · ${r.model.layers} layers, embed ${r.model.embed} · ` +
      `batch ${r.training.batch} × seq ${r.training.seq}, lr ${r.training.lr}, budget ${budget} per run, validation every ${r.training.evalEvery} steps · ` +
      `${r.seeds} seed${r.seeds > 1 ? 's' : ''} · backend ${r.backend}`,
    '',
    r.match === 'params'
      ? `Hidden sizes matched so every model has the parameter count of the LSTM at hidden ${r.model.hidden} with the same tokenizer, within 2%.`
      : `Every model has hidden ${r.model.hidden} (parameter counts differ by cell).`,
    '',
    `Numbers are those of each run's best validation pass (the checkpoint kept)${withSd ? `, mean ± sample sd over ${r.seeds} seeds` : ', one seed'}. ` +
      'Bits per byte is the scale every tokenisation shares; ppl per BPE token spreads the same nats over the ' +
      `${r.bpeEncoding} tokens of the validation text. The best row (lowest bits per byte) is marked ★.`,
    '',
    'Training time is the --minutes clock: steps only, evaluations and saves excluded; wall time includes them. ' +
      'Peak RSS is the most resident memory each run added to the process over its size just before the run\'s model existed; ' +
      'the working set is computed from the shapes (weights, gradients, Adam moments, one window\'s activations). ' +
      (r.target.bpc === null
        ? 'No run has a validation curve, so there is no target.'
        : `Steps and training seconds to target are where the validation curve first reaches ${r.target.bpc.toFixed(4)} bits per character of the validation text` +
          `${r.target.requested ? ' (--target-bpc)' : " (the worst run's best, so every run reaches it)"}, interpolated between evaluations.`),
    '',
  ];
  if (r.stopped) lines.push('**Stopped early (Ctrl-C): only the runs that finished are in the table.**', '');
  lines.push(
    '| | cell | tokenizer | hidden | params | val loss | ppl | BPC | bits/byte | ppl per BPE token | chars/s | peak RSS (MB) | working set (MB) | steps to target | training seconds to target | training time (s) | wall time (s) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const row of r.rows) {
    const mark = row.best ? '★' : '';
    const b = (s: string): string => (row.best ? `**${s}**` : s);
    lines.push(
      `| ${mark} | ${b(row.cell)} | ${row.tokenizer} | ${row.hidden} | ${row.params} | ` +
        [
          cell(row, row.meanValLoss, row.sdValLoss, 4, withSd),
          cell(row, row.meanValPpl, row.sdValPpl, 3, withSd),
          cell(row, row.meanValBpc, row.sdValBpc, 4, withSd),
          b(cell(row, row.meanValBitsPerByte, row.sdValBitsPerByte, 4, withSd)),
          cell(row, row.meanPplPerBpeToken, row.sdPplPerBpeToken, 2, withSd),
          withSd ? `${rate(row.meanCharsPerSec)} ± ${rate(row.sdCharsPerSec)}` : rate(row.meanCharsPerSec),
          cell(row, row.meanPeakRssMb, row.sdPeakRssMb, 1, withSd),
          cell(row, row.meanWorkingSetMb, row.sdWorkingSetMb, 2, withSd),
          toTarget(row, row.meanStepsToTarget, row.sdStepsToTarget, 0, withSd),
          toTarget(row, row.meanSecondsToTarget, row.sdSecondsToTarget, 1, withSd),
          withSd ? `${seconds(row.meanTrainMs)} ± ${seconds(row.sdTrainMs)}` : seconds(row.meanTrainMs),
          withSd ? `${seconds(row.meanWallMs)} ± ${seconds(row.sdWallMs)}` : seconds(row.meanWallMs),
        ].join(' | ') +
        ' |',
    );
  }
  lines.push(
    '',
    '## Runs',
    '',
    '| run | seed | steps | best at step | val loss | bits/byte | peak RSS (MB) | steps to target | training seconds to target | unseen val/test tokens | best checkpoint |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const run of r.runs) lines.push(runLine(run, dir));
  const failed = r.runs.filter((run) => run.error !== null);
  if (failed.length) lines.push('', ...failed.map((run) => `- ${run.run} failed: ${run.error}`));
  lines.push('', 'Chart: report.svg (validation bits per character against step and against training time, the target as a dashed line).', '');
  return lines.join('\n');
}

function runLine(run: ScoredRun, dir: string): string {
  // Relative to the report, so the folder can be moved or shared as a whole.
  const best = run.best ? relative(dir, run.best) : run.error ? 'failed' : '—';
  const reached = (x: number | null, digits: number): string => (x === null ? 'not reached' : x.toFixed(digits));
  return (
    `| ${run.run} | ${run.seed} | ${run.steps} | ${run.bestStep ?? '—'} | ${num(run.valLoss, 4)} | ${num(run.valBitsPerByte, 4)} | ${run.peakRssMb.toFixed(1)} | ` +
    `${reached(run.stepsToTarget, 0)} | ${reached(run.secondsToTarget, 1)} | ${run.unseenTokens ?? '—'} | ${best} |`
  );
}
