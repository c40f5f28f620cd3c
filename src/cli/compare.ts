import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { COMPARE_DEFAULT_STEPS, compareSpec } from '../api/compare.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { BACKEND_REQUESTS, describeBackend, selectBackend, type BackendRequest } from '../compute/backend.js';
import { loadCorpus } from '../data/corpus.js';
import { parseSplit } from '../data/split.js';
import { DEFAULT_BPE_ENCODING, parseTokenizer, TIKTOKEN_ENCODINGS, type TiktokenEncodingName } from '../data/tokenizer.js';
import { CELL_TYPES, type CellType } from '../model/config.js';
import { CompareRunner, PARAM_TOLERANCE, summarize, type CompareEvent, type MatchMode, type RunResult } from '../train/compare.js';
import { writeReport, type CompareReport } from './report/report.js';
import { renderVerdict } from './report/verdict.js';
import { STOP_SIGNALS, signalStatus } from './signals.js';
import { TRAIN_DEFAULTS } from './train.js';

const positiveInt = (name: string, v: number | undefined): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`--${name} must be a whole number of at least 1 (got ${v}).`);
};

function parseCells(text: string): CellType[] {
  const cells = text.split(',').map((c) => c.trim());
  for (const c of cells) if (!(CELL_TYPES as readonly string[]).includes(c)) throw new Error(`--cells takes ${CELL_TYPES.join(', ')} separated by commas, not ${JSON.stringify(c)}.`);
  if (new Set(cells).size !== cells.length) throw new Error(`--cells names a cell twice: ${text}.`);
  return cells as CellType[];
}

function parseTokenizers(text: string) {
  const names = text.split(',').map((t) => t.trim());
  if (new Set(names).size !== names.length) throw new Error(`--tokenizers names a tokenizer twice: ${text}.`);
  return names.map((n) => {
    try {
      return parseTokenizer(n);
    } catch (e) {
      throw new Error(`--tokenizers: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

export function compareCommand(y: Argv): Argv {
  return y.command(
    'compare <corpus>',
    'Train several cell types (and tokenisations) on one corpus under one budget, and write one report',
    (a) =>
      a
        .positional('corpus', { type: 'string', demandOption: true, describe: 'text file, folder, or bundled name (charlm corpora)' })
        .option('cells', { type: 'string', default: CELL_TYPES.join(','), describe: 'cells to compare, comma separated' })
        .option('layers', { type: 'number', default: TRAIN_DEFAULTS.layers, describe: 'stacked layers' })
        .option('hidden', { type: 'number', default: TRAIN_DEFAULTS.hidden, describe: 'hidden units (of the LSTM, with --match params)' })
        .option('embed', { type: 'number', default: TRAIN_DEFAULTS.embed, describe: 'embedding width, 0 for one-hot input' })
        .option('match', {
          choices: ['params', 'hidden'] as const,
          default: 'params' as MatchMode,
          describe: "params: every cell's hidden size chosen so its parameter count is within 2% of the LSTM's at --hidden; hidden: --hidden for all",
        })
        .option('steps', { type: 'number', describe: `steps per run [default: ${COMPARE_DEFAULT_STEPS} when --minutes is not given]` })
        .option('minutes', { type: 'number', describe: 'minutes of training time per run: evaluations and saves pause the clock (the report gives wall time in its own column)' })
        .option('target-bpc', {
          type: 'number',
          describe: "validation bits per character the report's steps and training seconds to target measure to [default: the worst run's best, so every run reaches it]",
        })
        .option('seeds', { type: 'number', default: 1, describe: 'seeds per cell (1..K, the same seeds for every cell); 2 or more report mean ± sd' })
        .option('tokenizers', { type: 'string', default: 'char', describe: 'comma separated: char, tiktoken:gpt2, tiktoken:cl100k_base, tiktoken:o200k_base' })
        .option('bpe', { choices: TIKTOKEN_ENCODINGS, default: DEFAULT_BPE_ENCODING as TiktokenEncodingName, describe: 'encoding whose token count perplexity per BPE token uses' })
        .option('batch', { type: 'number', default: TRAIN_DEFAULTS.batch, describe: 'parallel streams per step' })
        .option('seq', { type: 'number', default: TRAIN_DEFAULTS.seq, describe: 'BPTT window length' })
        .option('lr', { type: 'number', default: TRAIN_DEFAULTS.lr, describe: 'learning rate (Adam)' })
        .option('eval-every', { type: 'number', describe: `steps between validation passes [default: a tenth of --steps, else 100]` })
        .option('split', { type: 'string', default: TRAIN_DEFAULTS.split, describe: 'train,val,test percentages' })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('out', { type: 'string', describe: 'report folder [default: checkpoints/compare-<corpus>-<time>]' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per event on stdout' })
        .option('tui', { type: 'boolean', default: true, describe: 'dashboard on a terminal (--no-tui for plain lines)' })
        .requiresArg(['cells', 'layers', 'hidden', 'embed', 'match', 'steps', 'minutes', 'target-bpc', 'seeds', 'tokenizers', 'bpe', 'batch', 'seq', 'lr', 'eval-every', 'split', 'backend', 'out'])
        .check((v) => {
          for (const k of ['layers', 'hidden', 'steps', 'seeds', 'batch', 'seq', 'eval-every'] as const) positiveInt(k, v[k]);
          if (!Number.isInteger(v.embed) || v.embed < 0) throw new Error(`--embed must be a whole number of at least 0 (got ${v.embed}).`);
          if (!(Number.isFinite(v.lr) && v.lr > 0)) throw new Error(`--lr must be a number greater than 0 (got ${v.lr}).`);
          if (v.minutes !== undefined && !(Number.isFinite(v.minutes) && v.minutes > 0)) throw new Error(`--minutes must be a number greater than 0 (got ${v.minutes}).`);
          const target = v['target-bpc'];
          if (target !== undefined && !(Number.isFinite(target) && target > 0)) throw new Error(`--target-bpc must be a number greater than 0 (got ${target}).`);
          parseCells(v.cells);
          parseTokenizers(v.tokenizers);
          parseSplit(v.split);
          return true;
        }),
    async (v) => {
      const corpus = await loadCorpus(v.corpus);
      const { spec, budget } = compareSpec({
        cells: parseCells(v.cells),
        tokenizers: parseTokenizers(v.tokenizers),
        seeds: v.seeds,
        layers: v.layers,
        hidden: v.hidden,
        embed: v.embed,
        match: v.match,
        steps: v.steps,
        minutes: v.minutes,
        batch: v.batch,
        seq: v.seq,
        lr: v.lr,
        evalEvery: v['eval-every'],
        split: parseSplit(v.split),
        bpe: v.bpe,
        targetBpc: v['target-bpc'],
      });
      const { training } = spec;
      const outDir = resolve(v.out ?? defaultFolder(corpus.name));
      if (await exists(join(outDir, 'report.json'))) throw new CheckpointError(`${outDir} already holds a comparison report; choose another --out.`);
      const compute = await selectBackend(v.backend);
      const runner = new CompareRunner({ compute, corpus, spec, outDir });
      const finish = async (results: RunResult[]): Promise<{ report: CompareReport; paths: string[] }> => {
        const { targetBpc, runs, rows } = summarize(results, spec.seeds, spec.targetBpc);
        const report: CompareReport = {
          corpus: { name: corpus.name, source: corpus.source, bytes: corpus.bytes },
          backend: describeBackend(compute),
          match: spec.match,
          budget,
          model: { layers: spec.layers, hidden: spec.hidden, embed: spec.embed },
          training: { batch: training.batch, seq: training.seq, lr: training.lr, evalEvery: training.evalEvery },
          seeds: spec.seeds,
          bpeEncoding: spec.bpeEncoding,
          target: { bpc: targetBpc, requested: spec.targetBpc !== null },
          createdAt: new Date().toISOString(),
          stopped: runner.stopped,
          rows,
          runs,
        };
        return { report, paths: await writeReport(outDir, report) };
      };

      if (v.tui && !v.json && process.stdout.isTTY && process.stdin.isTTY) {
        // Loaded only for the dashboard: Ink and React add ~46 MB to a plain or --json run.
        const { compareWithDashboard } = await import('./compare-tui.js');
        const code = await compareWithDashboard(runner, finish, outDir);
        compute.runner.destroy();
        process.exit(code);
      }

      const write = (s: string): void => void process.stdout.write(s);
      runner.subscribe(v.json ? (e) => write(`${JSON.stringify(jsonEvent(e))}\n`) : plainCompareLog(write));
      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals): void => {
        // A second signal leaves at once; checkpoints are written atomically either way.
        if (stoppedBy) process.exit(signalStatus(stoppedBy));
        stoppedBy = signal;
        runner.stop();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      const results = await runner.run();
      const { report, paths } = await finish(results);
      compute.runner.destroy();
      if (v.json) write(`${JSON.stringify({ event: 'report', rows: report.rows, targetBpc: report.target.bpc, out: outDir, files: paths, stopped: report.stopped })}\n`);
      else write(`${summary(report)}charlm: report in ${outDir} (${paths.map((p) => p.slice(outDir.length + 1)).join(', ')})\n`);
      process.exit(stoppedBy ? signalStatus(stoppedBy) : 0);
    },
  );
}

/** The curve is in report.json; on the event stream run-done carries the numbers only, as a line a script reads at once. */
function jsonEvent(e: CompareEvent): object {
  if (e.event === 'run-done') {
    const { curve, ...rest } = e;
    return { ...rest, evals: curve.length };
  }
  return e;
}

const fx = (x: number | null | undefined, d: number): string => (x === null || x === undefined ? '—' : x.toFixed(d));

export function plainCompareLog(write: (s: string) => void): (e: CompareEvent) => void {
  let total: number | null = null;
  return (e) => {
    switch (e.event) {
      case 'compare-start':
        write(`charlm: comparing ${e.runs.length} runs on ${e.corpus} (${e.corpusBytes} bytes); backend ${e.backend}\n`);
        for (const r of e.runs) {
          const off = e.match === 'params' ? ` (${(r.paramsOff * 100).toFixed(2)}% from the LSTM's${r.paramsOff > PARAM_TOLERANCE ? '; no hidden size comes within 2% at this size' : ''})` : '';
          write(`  ${r.id}: hidden ${r.model.hidden}, ${r.params} parameters${off}\n`);
        }
        break;
      case 'run-start':
        total = e.totalSteps;
        write(
          `run ${e.index + 1}/${e.total} ${e.run}: ${e.cell} hidden ${e.hidden}, ${e.params} parameters, ${e.tokenizer} vocabulary ${e.vocabSize}` +
            `${e.unseenTokens === null ? '' : `, ${e.unseenTokens} val/test tokens unseen in training`}, seed ${e.seed}\n`,
        );
        break;
      case 'step':
        if (e.step % 50 === 0) write(`  ${e.run} step ${e.step}${total === null ? '' : `/${total}`} | loss ${e.loss.toFixed(4)} | ${e.charsPerSec.toFixed(0)} tokens/s\n`);
        break;
      case 'eval':
        write(`  ${e.run} eval at step ${e.step}: val loss ${e.valLoss.toFixed(4)} | bpc ${e.valBpc.toFixed(4)} | bits/byte ${e.valBitsPerByte.toFixed(4)}${e.best ? ' (best)' : ''}\n`);
        break;
      case 'run-done':
        write(
          e.error
            ? `run ${e.run} failed: ${e.error}\n`
            : `run ${e.run} done at step ${e.steps}: best val loss ${fx(e.valLoss, 4)}, bits/byte ${fx(e.valBitsPerByte, 4)}, ppl per BPE token ${fx(e.pplPerBpeToken, 2)}, ` +
                `${(e.trainMs / 1000).toFixed(1)} s training, ${(e.wallMs / 1000).toFixed(1)} s wall, peak RSS +${e.peakRssMb.toFixed(0)} MB${e.best ? `; best ${e.best}` : ''}\n`,
        );
        break;
      default:
        break;
    }
  };
}

function summary(r: CompareReport): string {
  const sd = r.seeds > 1;
  const rows = r.rows
    .map(
      (row) =>
        `${row.best ? '★' : ' '} ${row.cell.padEnd(4)} ${row.tokenizer.padEnd(20)} hidden ${String(row.hidden).padStart(4)} ${String(row.params).padStart(9)} params  ` +
        `bits/byte ${fx(row.meanValBitsPerByte, 4)}${sd ? ` ± ${fx(row.sdValBitsPerByte, 4)}` : ''}  bpc ${fx(row.meanValBpc, 4)}${sd ? ` ± ${fx(row.sdValBpc, 4)}` : ''}  ` +
        `peak RSS +${fx(row.meanPeakRssMb, 1)} MB  working set ${fx(row.meanWorkingSetMb, 2)} MB  ` +
        `${row.meanSecondsToTarget === null ? 'target not reached' : `target in ${fx(row.meanSecondsToTarget, 1)} s (step ${fx(row.meanStepsToTarget, 0)})`}\n`,
    )
    .join('');
  // Plain text: the markdown emphasis would show as asterisks.
  return `${renderVerdict(r).replace(/\*\*/g, '')}\n${rows}`;
}

function defaultFolder(corpus: string): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return join('checkpoints', `compare-${corpus}-${stamp}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
