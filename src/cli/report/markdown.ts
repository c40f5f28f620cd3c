import { relative } from 'node:path';
import type { ReportRow, RunResult } from '../../train/compare.js';
import type { CompareReport } from './report.js';

const num = (x: number | null | undefined, digits: number): string => (x === null || x === undefined ? '—' : x.toFixed(digits));

/** "mean ± sd" with two or more seeds; the mean alone with one, so nothing pretends to know a spread. */
function cell(row: ReportRow, mean: number | null, sd: number | null | undefined, digits: number, withSd: boolean): string {
  if (!withSd) return num(mean, digits);
  return sd === null || sd === undefined ? `${num(mean, digits)} ± —` : `${num(mean, digits)} ± ${num(sd, digits)}`;
}

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(1);
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
  ];
  if (r.stopped) lines.push('**Stopped early (Ctrl-C): only the runs that finished are in the table.**', '');
  lines.push(
    '| | cell | tokenizer | hidden | params | val loss | ppl | BPC | bits/byte | ppl per BPE token | chars/s | wall time (s) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
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
          withSd ? `${seconds(row.meanWallMs)} ± ${seconds(row.sdWallMs)}` : seconds(row.meanWallMs),
        ].join(' | ') +
        ' |',
    );
  }
  lines.push('', '## Runs', '', '| run | seed | steps | best at step | val loss | bits/byte | unseen val/test tokens | best checkpoint |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const run of r.runs) lines.push(runLine(run, dir));
  const failed = r.runs.filter((run) => run.error !== null);
  if (failed.length) lines.push('', ...failed.map((run) => `- ${run.run} failed: ${run.error}`));
  lines.push('', 'Chart: report.svg (validation bits per byte against step and against wall time).', '');
  return lines.join('\n');
}

function runLine(run: RunResult, dir: string): string {
  // Relative to the report, so the folder can be moved or shared as a whole.
  const best = run.best ? relative(dir, run.best) : run.error ? 'failed' : '—';
  return `| ${run.run} | ${run.seed} | ${run.steps} | ${run.bestStep ?? '—'} | ${num(run.valLoss, 4)} | ${num(run.valBitsPerByte, 4)} | ${run.unseenTokens ?? '—'} | ${best} |`;
}
