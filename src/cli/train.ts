import type { Argv } from 'yargs';
import { checkTrainOptions, prepareTraining, runTraining, TRAIN_DEFAULTS, type TrainOptions } from '../api/train.js';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';
import { DOCUMENT_MODES, type DocumentMode } from '../data/documents.js';
import { CELL_TYPES, type CellType } from '../model/config.js';
import { DEFAULT_FORGET_BIAS } from '../model/params.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer.js';
import { STOP_SIGNALS, signalStatus } from './signals.js';
import { jsonLog, plainLog } from './train-log.js';

// compare reads the defaults from here, as it did before the library held them.
export { TRAIN_DEFAULTS };

export function trainCommand(y: Argv): Argv {
  return y.command(
    'train <corpus>',
    'Train a model on a text file, a folder of text files, or a bundled corpus',
    (a) =>
      a
        .positional('corpus', { type: 'string', demandOption: true, describe: 'text file, folder, or bundled name (charlm corpora)' })
        .option('cell', { choices: CELL_TYPES, describe: `recurrent cell [default: ${TRAIN_DEFAULTS.cell}]` })
        .option('layers', { type: 'number', describe: `stacked layers [default: ${TRAIN_DEFAULTS.layers}]` })
        .option('hidden', { type: 'number', describe: `hidden units per layer [default: ${TRAIN_DEFAULTS.hidden}]` })
        .option('embed', { type: 'number', describe: `embedding width, 0 for one-hot input [default: ${TRAIN_DEFAULTS.embed}]` })
        .option('dropout', { type: 'number', describe: `dropout between layers, in [0, 1) [default: ${TRAIN_DEFAULTS.dropout}]` })
        .option('batch', { type: 'number', describe: `parallel streams per step [default: ${TRAIN_DEFAULTS.batch}]` })
        .option('seq', { type: 'number', describe: `BPTT window length [default: ${TRAIN_DEFAULTS.seq}]` })
        .option('lr', { type: 'number', describe: `learning rate [default: ${TRAIN_DEFAULTS.lr}]` })
        .option('optimizer', { choices: ['adam', 'sgd'] as const, describe: 'optimizer [default: adam]' })
        .option('momentum', { type: 'number', describe: `SGD momentum [default: ${DEFAULT_OPTIMIZER.momentum}]` })
        .option('schedule', { choices: ['constant', 'cosine', 'step'] as const, describe: 'learning-rate schedule [default: constant]' })
        .option('warmup', { type: 'number', describe: 'warmup steps for cosine and step schedules [default: 0]' })
        .option('decay-every', { type: 'number', describe: 'step schedule: steps between decays [default: 1000]' })
        .option('decay-gamma', { type: 'number', describe: 'step schedule: factor per decay [default: 0.5]' })
        .option('clip', { type: 'number', describe: `global gradient-norm limit, 0 = off [default: ${TRAIN_DEFAULTS.clip}]` })
        .option('max-nonfinite', {
          type: 'number',
          requiresArg: true,
          describe: `stop after this many diverged steps in a row (NaN/∞ loss or gradient, exploding loss; none is applied) [default: ${TRAIN_DEFAULTS.maxNonFinite}]`,
        })
        .option('steps', { type: 'number', describe: 'stop after this many steps' })
        .option('epochs', { type: 'number', describe: `stop after this many passes over the training split [default: ${TRAIN_DEFAULTS.epochs} when no budget is given]` })
        .option('minutes', { type: 'number', describe: 'stop after this many minutes of training time: evaluations, samples and saves pause the clock' })
        .option('eval-every', { type: 'number', describe: `steps between validation passes [default: ${TRAIN_DEFAULTS.evalEvery}]` })
        .option('sample-every', { type: 'number', describe: `steps between live samples, 0 = never [default: ${TRAIN_DEFAULTS.sampleEvery}]` })
        .option('sample-length', { type: 'number', describe: `characters per live sample [default: ${TRAIN_DEFAULTS.sampleLength}]` })
        .option('temperature', { type: 'number', describe: `live-sample temperature [default: ${TRAIN_DEFAULTS.temperature}]` })
        .option('seed', { type: 'number', describe: `seed of initialisation and dropout [default: ${TRAIN_DEFAULTS.seed}]` })
        .option('forget-bias', {
          type: 'string',
          describe: `LSTM forget-gate bias at initialisation, or "pytorch" for PyTorch's own uniform draw [default: ${DEFAULT_FORGET_BIAS}]`,
        })
        .option('split', { type: 'string', describe: `train,val,test percentages [default: ${TRAIN_DEFAULTS.split}]` })
        .option('tokenizer', { type: 'string', describe: 'char, or tiktoken:gpt2|cl100k_base|o200k_base (ids compacted to those in the train split) [default: char]' })
        .option('documents', {
          choices: DOCUMENT_MODES,
          describe: 'train on separate documents (each line, blocks between blank lines, or each file of a folder), each ended by an end symbol, state reset at each start',
        })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('out', { type: 'string', describe: 'run folder [default: checkpoints/<corpus>-<cell>-<time>]' })
        .option('resume', { type: 'string', describe: 'continue from this checkpoint (same corpus)' })
        .option('keep-last', { type: 'number', describe: 'checkpoints kept of the newest saves: latest, then step-NNNNNN files [default: 1]' })
        .option('keep-best', { type: 'number', describe: 'checkpoints kept of the lowest validation losses: best, then step-NNNNNN files [default: 1]' })
        .option('strict', {
          type: 'boolean',
          default: false,
          describe: 'refuse a corpus too small for --batch × --seq instead of choosing smaller values',
        })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per event on stdout' })
        .option('tui', { type: 'boolean', default: true, describe: 'dashboard on a terminal (--no-tui for plain lines)' })
        // Without this yargs reads a valued flag given no value (`--lr`) as "not given", and the run silently uses the default.
        .requiresArg(['cell', 'layers', 'hidden', 'embed', 'dropout', 'batch', 'seq', 'lr', 'optimizer', 'momentum', 'schedule', 'warmup', 'decay-every', 'decay-gamma', 'clip', 'steps', 'epochs', 'minutes', 'eval-every', 'sample-every', 'sample-length', 'temperature', 'seed', 'forget-bias', 'split', 'tokenizer', 'documents', 'keep-last', 'keep-best', 'backend', 'out', 'resume'])
        .check((v) => {
          checkTrainOptions(optionsFromFlags(v), flagName);
          return true;
        }),
    async (v) => {
      const prepared = await prepareTraining(optionsFromFlags(v));
      const { trainer: run, unseen, smallCorpus } = prepared;
      // The dashboard needs a terminal to draw on and one to read keys from; anything else gets plain lines (or --json).
      if (v.tui && !v.json && process.stdout.isTTY && process.stdin.isTTY) {
        // Loaded only for the dashboard: Ink and React add ~46 MB to a plain or --json run.
        const { trainWithDashboard } = await import('./train-tui.js');
        const code = await trainWithDashboard(run);
        run.compute.runner.destroy();
        process.exit(code);
      }

      const write = (s: string): void => void process.stdout.write(s);
      // --json carries it in the start event; plain lines are progress on stdout, so the note goes where warnings go.
      if (smallCorpus && !v.json) process.stderr.write(`charlm: ${smallCorpus.note}\n`);
      if (unseen) {
        const { vocab } = run;
        const note = { event: 'tokenizer', tokenizer: vocab.tokenizer, vocabSize: vocab.size, unseenTokens: unseen.tokens, unseenDistinct: unseen.distinct };
        write(v.json ? `${JSON.stringify(note)}\n` : `charlm: ${note.tokenizer}: ${vocab.size - 1} token ids from the train split + 1 reserved; ${unseen.tokens} val/test tokens (${unseen.distinct} distinct ids) unseen in training map to it\n`);
      }
      const log = v.json ? jsonLog(write) : plainLog(write, 10);

      const stop = new AbortController();
      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals): void => {
        // A second signal leaves at once; the checkpoint files are written atomically either way.
        if (stoppedBy) process.exit(signalStatus(stoppedBy));
        stoppedBy = signal;
        stop.abort();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      for await (const event of runTraining(prepared, stop.signal)) log(event);
      process.exit(stoppedBy ? signalStatus(stoppedBy) : 0);
    },
  );
}

/** The flags as yargs parsed them; all but corpus may be missing. */
interface TrainFlags {
  readonly corpus: string;
  readonly cell?: CellType;
  readonly layers?: number;
  readonly hidden?: number;
  readonly embed?: number;
  readonly dropout?: number;
  readonly batch?: number;
  readonly seq?: number;
  readonly lr?: number;
  readonly optimizer?: 'adam' | 'sgd';
  readonly momentum?: number;
  readonly schedule?: 'constant' | 'cosine' | 'step';
  readonly warmup?: number;
  readonly 'decay-every'?: number;
  readonly 'decay-gamma'?: number;
  readonly clip?: number;
  readonly 'max-nonfinite'?: number;
  readonly steps?: number;
  readonly epochs?: number;
  readonly minutes?: number;
  readonly 'eval-every'?: number;
  readonly 'sample-every'?: number;
  readonly 'sample-length'?: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly 'forget-bias'?: string;
  readonly split?: string;
  readonly tokenizer?: string;
  readonly documents?: DocumentMode;
  readonly backend?: BackendRequest;
  readonly out?: string;
  readonly resume?: string;
  readonly 'keep-last'?: number;
  readonly 'keep-best'?: number;
  readonly strict?: boolean;
}

/** What `train()` of the library takes, from the flags: the command line is one caller of it. */
function optionsFromFlags(v: TrainFlags): TrainOptions {
  const forgetBias = v['forget-bias'] === undefined ? undefined : parseForgetBias(v['forget-bias']);
  return {
    corpus: v.corpus,
    cell: v.cell,
    layers: v.layers,
    hidden: v.hidden,
    embed: v.embed,
    dropout: v.dropout,
    batch: v.batch,
    seq: v.seq,
    lr: v.lr,
    optimizer: v.optimizer,
    momentum: v.momentum,
    schedule: v.schedule,
    warmup: v.warmup,
    decayEvery: v['decay-every'],
    decayGamma: v['decay-gamma'],
    clip: v.clip,
    maxNonFinite: v['max-nonfinite'],
    steps: v.steps,
    epochs: v.epochs,
    minutes: v.minutes,
    evalEvery: v['eval-every'],
    sampleEvery: v['sample-every'],
    sampleLength: v['sample-length'],
    temperature: v.temperature,
    seed: v.seed,
    forgetBias: forgetBias === null ? 'pytorch' : forgetBias,
    split: v.split,
    tokenizer: v.tokenizer,
    documents: v.documents,
    backend: v.backend,
    out: v.out,
    resume: v.resume,
    keepLast: v['keep-last'],
    keepBest: v['keep-best'],
    strict: v.strict,
  };
}

/** --max-nonfinite for maxNonFinite: the library's option names in their flag spelling. */
const flagName = (option: keyof TrainOptions): string => `--${option === 'maxNonFinite' ? 'max-nonfinite' : option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function parseForgetBias(text: string): number | null {
  if (text === 'pytorch') return null;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`--forget-bias must be a number or "pytorch" (got ${JSON.stringify(text)}).`);
  return n;
}

