import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { CheckpointError } from '../checkpoint/errors.js';
import { estimateCheckpointBytes, lockRunFolder } from '../checkpoint/lock.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../checkpoint/retention.js';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';
import { selectTrainingBackend } from '../train/backend-choice.js';
import { loadCorpus } from '../data/corpus.js';
import { DOCUMENT_MODES, corpusDocuments, corpusIds, documentIds, documentVocabulary, splitCorpusIds, type DocumentMode } from '../data/documents.js';
import { parseSplit } from '../data/split.js';
import { buildVocabulary, parseTokenizer, type UnseenTokens, type Vocabulary } from '../data/tokenizer.js';
import { CELL_TYPES, type CellType, type ModelConfig } from '../model/config.js';
import { DEFAULT_FORGET_BIAS } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { Sampler } from '../sample/sampler.js';
import type { Budget, TrainConfig } from '../train/config.js';
import { fitWindows } from '../train/guardrails.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer.js';
import type { Schedule } from '../train/schedule.js';
import { Trainer } from '../train/trainer.js';
import { loadForUse, type LoadedCheckpoint } from './checkpoint-model.js';
import { STOP_SIGNALS, signalStatus } from './signals.js';
import { jsonLog, plainLog } from './train-log.js';
import { primeIds } from '../sample/prime.js';

/** Defaults for a first run; `npm start` trains with exactly these (README: "Defaults"). */
export const TRAIN_DEFAULTS = {
  cell: 'lstm' as CellType,
  layers: 2,
  hidden: 128,
  embed: 64,
  dropout: 0,
  batch: 32,
  seq: 64,
  lr: 2e-3,
  clip: 5,
  epochs: 10,
  evalEvery: 250,
  sampleEvery: 100,
  sampleLength: 200,
  temperature: 0.8,
  seed: 1,
  split: '90,5,5',
  maxNonFinite: 5,
};

const positiveInt = (name: string, v: number | undefined): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`--${name} must be a whole number of at least 1 (got ${v}).`);
};
const nonNegativeInt = (name: string, v: number | undefined): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`--${name} must be a whole number of at least 0 (got ${v}).`);
};
const positiveNumber = (name: string, v: number | undefined): void => {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a number greater than 0 (got ${v}).`);
};

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
        .option('minutes', { type: 'number', describe: 'stop after this much training time' })
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
          for (const k of ['layers', 'hidden', 'batch', 'seq', 'steps', 'eval-every', 'sample-length', 'warmup', 'decay-every'] as const) {
            if (k === 'warmup') nonNegativeInt(k, v[k]);
            else positiveInt(k, v[k]);
          }
          nonNegativeInt('embed', v.embed);
          positiveInt('max-nonfinite', v['max-nonfinite']);
          positiveInt('keep-last', v['keep-last']);
          positiveInt('keep-best', v['keep-best']);
          nonNegativeInt('sample-every', v['sample-every']);
          for (const k of ['lr', 'epochs', 'minutes', 'decay-gamma'] as const) positiveNumber(k, v[k]);
          if (v.dropout !== undefined && !(v.dropout >= 0 && v.dropout < 1)) throw new Error(`--dropout must be in [0, 1) (got ${v.dropout}).`);
          if (v.clip !== undefined && !(v.clip >= 0)) throw new Error(`--clip must be 0 (off) or more (got ${v.clip}).`);
          if (v.temperature !== undefined && !(v.temperature >= 0)) throw new Error(`--temperature must be 0 (greedy) or more (got ${v.temperature}).`);
          if (v.momentum !== undefined && !(v.momentum >= 0 && v.momentum < 1)) throw new Error(`--momentum must be in [0, 1) (got ${v.momentum}).`);
          if (v.seed !== undefined && !Number.isInteger(v.seed)) throw new Error(`--seed must be a whole number (got ${v.seed}).`);
          if (v.split !== undefined) checkSplitFlag(v.split);
          if (v.tokenizer !== undefined) parseTokenizer(v.tokenizer);
          if (v.documents !== undefined && v.tokenizer !== undefined && v.tokenizer !== 'char') {
            throw new Error(`--documents works with --tokenizer char only: ${v.tokenizer} has no end-of-document symbol here.`);
          }
          if (v['forget-bias'] !== undefined) parseForgetBias(v['forget-bias']);
          if (v.schedule === 'cosine' && v.steps === undefined && v.epochs === undefined) {
            throw new Error('--schedule cosine decays over a step budget: give --steps or --epochs.');
          }
          return true;
        }),
    async (v) => {
      const corpus = await loadCorpus(v.corpus);
      const resumed = v.resume ? await readResume(v.resume, corpus.bytes, v.documents) : undefined;
      const budget: Budget | undefined =
        v.steps !== undefined || v.epochs !== undefined || v.minutes !== undefined ? { steps: v.steps, epochs: v.epochs, minutes: v.minutes } : undefined;
      let model: ModelConfig;
      let config: TrainConfig;
      let vocab: Vocabulary;
      let unseen: UnseenTokens | null = null;
      let encoded: Int32Array | undefined;
      if (resumed) {
        // The stored run decides everything that shapes the trajectory; only when and how often to stop and report may change.
        model = resumed.contents.model;
        vocab = resumed.vocab;
        const stored = resumed.training;
        config = {
          ...stored,
          budget: budget ?? stored.budget,
          evalEvery: v['eval-every'] ?? stored.evalEvery,
          maxNonFinite: v['max-nonfinite'] ?? stored.maxNonFinite,
          sampleEvery: v['sample-every'] ?? stored.sampleEvery,
          sampleLength: v['sample-length'] ?? stored.sampleLength,
          temperature: v.temperature ?? stored.temperature,
        };
      } else {
        // A token vocabulary is cut from the train split, so the split is known before the model's size.
        const percents = parseSplit(v.split ?? TRAIN_DEFAULTS.split);
        if (v.documents) {
          const documents = corpusDocuments(corpus, v.documents);
          vocab = documentVocabulary(documents);
          encoded = documentIds(documents, vocab);
        } else {
          ({ vocab, unseen } = buildVocabulary(parseTokenizer(v.tokenizer ?? 'char'), corpus.text, percents));
        }
        model = {
          cell: v.cell ?? TRAIN_DEFAULTS.cell,
          vocabSize: vocab.size,
          embed: v.embed ?? TRAIN_DEFAULTS.embed,
          hidden: v.hidden ?? TRAIN_DEFAULTS.hidden,
          layers: v.layers ?? TRAIN_DEFAULTS.layers,
          dropout: v.dropout ?? TRAIN_DEFAULTS.dropout,
        };
        config = {
          batch: v.batch ?? TRAIN_DEFAULTS.batch,
          seq: v.seq ?? TRAIN_DEFAULTS.seq,
          lr: v.lr ?? TRAIN_DEFAULTS.lr,
          clip: v.clip ?? TRAIN_DEFAULTS.clip,
          optimizer: { ...DEFAULT_OPTIMIZER, kind: v.optimizer ?? 'adam', momentum: v.momentum ?? DEFAULT_OPTIMIZER.momentum },
          schedule: schedule(v.schedule ?? 'constant', v.warmup ?? 0, v['decay-every'] ?? 1000, v['decay-gamma'] ?? 0.5),
          budget: budget ?? { epochs: TRAIN_DEFAULTS.epochs },
          evalEvery: v['eval-every'] ?? TRAIN_DEFAULTS.evalEvery,
          sampleEvery: v['sample-every'] ?? TRAIN_DEFAULTS.sampleEvery,
          sampleLength: v['sample-length'] ?? TRAIN_DEFAULTS.sampleLength,
          temperature: v.temperature ?? TRAIN_DEFAULTS.temperature,
          seed: v.seed ?? TRAIN_DEFAULTS.seed,
          split: percents,
          maxNonFinite: v['max-nonfinite'] ?? TRAIN_DEFAULTS.maxNonFinite,
          forgetBias: v['forget-bias'] === undefined ? DEFAULT_FORGET_BIAS : parseForgetBias(v['forget-bias']),
          documents: v.documents ?? null,
        };
      }
      const split = splitCorpusIds(encoded ?? corpusIds(corpus, vocab, config.documents), config.split, vocab.endOfDocument);
      // A resumed run keeps the shape it was stored with, which already fitted.
      const unit = vocab.tokenizer === 'char' ? 'characters' : 'tokens';
      const smallCorpus = resumed ? null : fitWindows(split.train.length, split.val.length, { batch: config.batch, seq: config.seq }, v.strict, unit);
      if (smallCorpus) config = { ...config, ...smallCorpus.chosen };
      const retention: RetentionPolicy = { keepLast: v['keep-last'] ?? DEFAULT_RETENTION.keepLast, keepBest: v['keep-best'] ?? DEFAULT_RETENTION.keepBest };
      const extra = { retention, ...(smallCorpus ? { smallCorpus } : {}) };
      const outDir = resolve(v.out ?? (resumed ? dirname(resolve(v.resume!)) : defaultRunFolder(corpus.name, model.cell)));
      // Before the backend starts: a folder that cannot take the run, or that another run holds, is refused at once.
      await lockRunFolder(outDir, {
        checkpointBytes: estimateCheckpointBytes(model, config.batch, config.optimizer.kind),
        checkpointFiles: retention.keepLast + retention.keepBest,
      });
      if (!resumed && (await exists(join(outDir, 'latest.safetensors')))) {
        throw new CheckpointError(`${outDir} already holds a run; continue it with --resume ${join(outDir, 'latest.safetensors')} or choose another --out.`);
      }
      const compute = await selectTrainingBackend(v.backend, { model, batch: config.batch, seq: config.seq });

      // The dashboard needs a terminal to draw on and one to read keys from; anything else gets plain lines (or --json).
      const resume = resumed && { path: resolve(v.resume!), contents: resumed.contents, progress: resumed.progress };
      if (v.tui && !v.json && process.stdout.isTTY && process.stdin.isTTY) {
        // Loaded only for the dashboard: Ink and React add ~46 MB to a plain or --json run.
        const { trainWithDashboard } = await import('./train-tui.js');
        const code = await trainWithDashboard({ compute, corpus, vocab, split, model, config, outDir, resume, ...extra });
        compute.runner.destroy();
        process.exit(code);
      }

      const sampler = new Sampler(compute.runner, model);
      // In document mode a live sample is one document: it starts as documents start, after END, and stops at END.
      const end = vocab.endOfDocument;
      const prime = end === null ? primeIds(vocab, '') : Int32Array.of(end);
      const trainer = new Trainer({
        compute,
        corpus,
        vocab,
        split,
        model,
        config,
        outDir,
        resume,
        ...extra,
        sample: async (params, step) => {
          const rng = Rng.scrambled(config.seed * 7919 + step);
          const ids: number[] = [];
          const options = { temperature: config.temperature, topK: 0, topP: 1 };
          for await (const id of sampler.generate(params, prime, config.sampleLength, () => options, rng)) {
            if (id === end) break;
            ids.push(id);
          }
          return { text: vocab.decode(ids), temperature: config.temperature };
        },
      });
      const write = (s: string): void => void process.stdout.write(s);
      // --json carries it in the start event; plain lines are progress on stdout, so the note goes where warnings go.
      if (smallCorpus && !v.json) process.stderr.write(`charlm: ${smallCorpus.note}\n`);
      if (unseen) {
        const note = { event: 'tokenizer', tokenizer: vocab.tokenizer, vocabSize: vocab.size, unseenTokens: unseen.tokens, unseenDistinct: unseen.distinct };
        write(v.json ? `${JSON.stringify(note)}\n` : `charlm: ${note.tokenizer}: ${vocab.size - 1} token ids from the train split + 1 reserved; ${unseen.tokens} val/test tokens (${unseen.distinct} distinct ids) unseen in training map to it\n`);
      }
      trainer.subscribe(v.json ? jsonLog(write) : plainLog(write, 10));

      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals): void => {
        // A second signal leaves at once; the checkpoint files are written atomically either way.
        if (stoppedBy) process.exit(signalStatus(stoppedBy));
        stoppedBy = signal;
        trainer.stop();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      await trainer.run();
      compute.runner.destroy();
      process.exit(stoppedBy ? signalStatus(stoppedBy) : 0);
    },
  );
}

function parseForgetBias(text: string): number | null {
  if (text === 'pytorch') return null;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`--forget-bias must be a number or "pytorch" (got ${JSON.stringify(text)}).`);
  return n;
}

/** parseSplit speaks of the data; on the command line the refusal names the flag. */
function checkSplitFlag(text: string): void {
  try {
    parseSplit(text);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    throw new Error(`--split ${text}: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`);
  }
}

function schedule(kind: 'constant' | 'cosine' | 'step', warmup: number, every: number, gamma: number): Schedule {
  if (kind === 'cosine') return { kind, warmup, minFraction: 0.1 };
  if (kind === 'step') return { kind, warmup, every, gamma };
  return { kind };
}

/**
 * The checkpoint to continue from, validated as sample/eval/info validate it, and refused unless it
 * was trained on this text, cut into documents the same way (a --documents left out means the stored one).
 */
async function readResume(path: string, corpusBytes: number, documents: DocumentMode | undefined): Promise<LoadedCheckpoint> {
  const loaded = await loadForUse(path);
  if (loaded.corpus.bytes !== corpusBytes) {
    throw new CheckpointError(
      `${path} was trained on ${loaded.corpus.name} (${loaded.corpus.bytes} bytes), not on this corpus (${corpusBytes} bytes); resume needs the same text.`,
      { file: path },
    );
  }
  const stored = loaded.training.documents;
  if (documents !== undefined && documents !== stored) {
    const was = stored === null ? 'on one continuous text, without --documents' : `with --documents ${stored}`;
    throw new CheckpointError(`${path} was trained ${was}, so it cannot resume with --documents ${documents}; leave the flag out to continue as it was.`, { file: path });
  }
  return loaded;
}

function defaultRunFolder(corpus: string, cell: CellType): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return join('checkpoints', `${corpus}-${cell}-${stamp}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
