import { dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { HISTORY_FILE, readHistory } from '../checkpoint/history.js';
import type { DocumentMode } from '../data/documents.js';
import type { Budget } from '../train/config.js';
import type { Schedule } from '../train/schedule.js';
import { loadForUse, type LoadedCheckpoint } from './checkpoint-model.js';
import { historyChart } from './history-chart.js';

/** What `charlm info --json` prints: the parts of a checkpoint a person or a script asks about. */
export interface CheckpointInfo {
  readonly file: string;
  readonly fileBytes: number;
  readonly formatVersion: number;
  readonly model: LoadedCheckpoint['contents']['model'];
  readonly params: number;
  readonly vocabSize: number;
  readonly tokenizer: string;
  readonly training: LoadedCheckpoint['training'];
  readonly step: number;
  readonly optimizerSteps: number;
  readonly elapsedMs: number;
  /** `chosenOn`: the split whose loss picks best; always the validation split, so the test split stays unseen by model selection. */
  readonly best: { readonly step: number; readonly valLoss: number; readonly valBpc: number | null; readonly chosenOn: 'val' } | null;
  readonly evals: number;
  readonly history: LoadedCheckpoint['progress']['history'];
  readonly corpus: LoadedCheckpoint['corpus'];
}

export function checkpointInfo(c: LoadedCheckpoint): CheckpointInfo {
  const { progress } = c;
  const best = progress.best;
  return {
    file: c.path,
    fileBytes: c.fileBytes,
    formatVersion: c.formatVersion,
    model: c.contents.model,
    params: c.contents.params.length,
    vocabSize: c.vocab.size,
    tokenizer: c.vocab.tokenizer,
    training: c.training,
    step: progress.step,
    optimizerSteps: c.contents.optimizer.step,
    elapsedMs: progress.elapsedMs,
    best: best && { ...best, valBpc: progress.history.find((h) => h.step === best.step)?.valBpc ?? null, chosenOn: 'val' },
    evals: progress.history.length,
    history: progress.history,
    corpus: c.corpus,
  };
}

export function infoCommand(y: Argv): Argv {
  return y.command(
    'info <checkpoint>',
    'Configuration, parameter count, vocabulary, step and validation history of a checkpoint',
    (a) =>
      a
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .option('history', { type: 'boolean', default: false, describe: `also chart the run's ${HISTORY_FILE} (every step and evaluation) from the checkpoint's folder` })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object, including the whole evaluation history' }),
    async (v) => {
      const info = checkpointInfo(await loadForUse(v.checkpoint));
      // The history is the run folder's, beside the checkpoint: every file of the folder shares it.
      const records = v.history ? await readHistory(join(dirname(v.checkpoint), HISTORY_FILE)) : null;
      if (v.json) {
        process.stdout.write(`${JSON.stringify(records ? { ...info, runHistory: records } : info)}\n`);
        return;
      }
      process.stdout.write(describe(info));
      if (records) process.stdout.write(`\n${historyChart(records, Math.max(40, Math.min(process.stdout.columns ?? 80, 120)))}`);
    },
  );
}

function describe(i: CheckpointInfo): string {
  const m = i.model;
  const t = i.training;
  const last = i.history[i.history.length - 1];
  const optimizer = t.optimizer.kind === 'sgd' ? `sgd (momentum ${t.optimizer.momentum})` : 'adam';
  const rows: [string, string][] = [
    ['checkpoint', `${i.file} (${i.fileBytes} bytes, format version ${i.formatVersion})`],
    ['model', `${m.cell} × ${m.layers} layers, hidden ${m.hidden}, ${m.embed > 0 ? `embed ${m.embed}` : 'one-hot input'}, dropout ${m.dropout}`],
    ['parameters', String(i.params)],
    ['vocabulary', `${i.vocabSize} symbols${i.tokenizer === 'char' ? '' : ` (${i.tokenizer} tokens)`}${t.documents === null ? '' : ', one of them the end of a document'}`],
    ['documents', t.documents === null ? 'none (one continuous text)' : DOCUMENTS_TEXT[t.documents]],
    ['training', `batch ${t.batch} × seq ${t.seq}, ${optimizer} lr ${t.lr}, ${scheduleText(t.schedule)}, clip ${t.clip || 'off'}, seed ${t.seed}`],
    ['budget', budgetText(t.budget)],
    ['split', `${t.split.train}% train, ${t.split.val}% val, ${t.split.test}% test`],
    ['step', `${i.step} (${(i.elapsedMs / 1000).toFixed(1)} s of training)`],
    ['best val', i.best ? `loss ${i.best.valLoss.toFixed(4)}${i.best.valBpc === null ? '' : `, bpc ${i.best.valBpc.toFixed(4)}`} at step ${i.best.step} (chosen on the val split)` : 'none yet'],
    ['evaluations', last ? `${i.evals}, the last at step ${last.step}: val loss ${last.valLoss.toFixed(4)}, bpc ${last.valBpc.toFixed(4)}` : '0'],
    ['corpus', `${i.corpus.name}, ${i.corpus.bytes} bytes, from ${i.corpus.source}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, text]) => `${k.padEnd(width)}  ${text}\n`).join('');
}

const DOCUMENTS_TEXT: Record<DocumentMode, string> = {
  line: 'line: each non-empty line is a document',
  'blank-line': 'blank-line: blocks between blank lines are documents',
  file: 'file: each file of the folder is a document',
};

function scheduleText(s: Schedule): string {
  if (s.kind === 'cosine') return `warmup ${s.warmup} + cosine to ${s.minFraction} of lr`;
  if (s.kind === 'step') return `warmup ${s.warmup}, ×${s.gamma} every ${s.every} steps`;
  return 'constant lr';
}

function budgetText(b: Budget): string {
  const parts = [b.steps !== undefined && `${b.steps} steps`, b.epochs !== undefined && `${b.epochs} epochs`, b.minutes !== undefined && `${b.minutes} minutes`];
  const set = parts.filter(Boolean);
  return set.length > 1 ? `${set.join(' or ')}, whichever comes first` : set.join('') || 'none';
}
