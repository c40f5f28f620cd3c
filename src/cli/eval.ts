import { isAbsolute } from 'node:path';
import type { Argv } from 'yargs';
import { BACKEND_REQUESTS, describeBackend, selectBackend, type BackendRequest } from '../compute/backend.js';
import { isBundled, loadBundled } from '../data/bundled.js';
import { loadCorpus, type Corpus } from '../data/corpus.js';
import { DataError } from '../data/errors.js';
import { corpusDocuments, documentIds, splitCorpusIds, textWithBreaks } from '../data/documents.js';
import { DEFAULT_BPE_ENCODING, perBpeToken } from '../data/tokenizer.js';
import { Network } from '../model/network.js';
import { evaluate } from '../train/evaluate.js';
import { evalStreams } from '../train/guardrails.js';
import { encodeFor, loadForUse, type LoadedCheckpoint } from './checkpoint-model.js';

const PARTS = ['val', 'test', 'all'] as const;
type Part = (typeof PARTS)[number];

export function evalCommand(y: Argv): Argv {
  return y.command(
    'eval <checkpoint> [corpus]',
    "Loss, perplexity, bits per character and per byte of a checkpoint on a corpus (default: its own validation split)",
    (a) =>
      a
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .positional('corpus', { type: 'string', describe: 'text file, folder or bundled name [default: the corpus the checkpoint was trained on]' })
        .option('split', {
          choices: PARTS,
          describe: "part to score, cut by the run's train/val/test percentages [default: val without a corpus, all with one]",
        })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object: loss, ppl, bpc, bitsPerByte, chars, split, backend' })
        .requiresArg(['split', 'backend']),
    async (v) => {
      const ckpt = await loadForUse(v.checkpoint);
      if (v.split === 'test' || v.split === 'val') refuseEmptyPart(ckpt, v.split);
      const corpus = v.corpus === undefined ? await trainingCorpus(ckpt) : await loadCorpus(v.corpus);
      const part: Part = v.split ?? (v.corpus === undefined ? 'val' : 'all');
      const { documents } = ckpt.training;
      const all =
        documents === null ? encodeFor(ckpt.vocab, corpus.text, v.corpus ?? corpus.source, v.checkpoint) : documentIds(corpusDocuments(corpus, documents), ckpt.vocab);
      const ids = part === 'all' ? all : splitCorpusIds(all, ckpt.training.split, ckpt.vocab.endOfDocument)[part];
      if (ids.length < 2) {
        const s = ckpt.training.split;
        throw new DataError(
          `The ${part} part of ${corpus.name} has ${ids.length} characters under the run's ${s.train},${s.val},${s.test} split, and scoring needs at least 2; try --split all.`,
        );
      }

      // The run's own window shape: evaluation carries state along B streams, so the same
      // shape is what makes this number equal the val loss the training run reported.
      // Shrinking it to the text loses nothing: the streams and windows stay the same.
      const scored = ids.length - 1;
      const batch = evalStreams(ckpt.training.batch, ckpt.training.seq, scored);
      const seq = Math.min(ckpt.training.seq, Math.ceil(scored / batch));
      const compute = await selectBackend(v.backend);
      const { vocab } = ckpt;
      const network = new Network(compute.runner, ckpt.contents.model, batch, seq);
      const r = await evaluate(network, ckpt.contents.params, ids, (id) => vocab.byteLength(id), vocab.endOfDocument);
      const backend = describeBackend(compute);
      compute.runner.destroy();

      if (v.json) {
        const out = { loss: r.loss, ppl: r.ppl, bpc: r.bpc, bitsPerByte: r.bitsPerByte, chars: r.tokens, split: part, backend };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        // The first id is only read, never scored, so the BPE count is over the same text the nats are.
        const bpe = perBpeToken(r.loss * r.tokens, textWithBreaks(ids.subarray(1), vocab));
        process.stdout.write(
          `${corpus.name} (${part === 'all' ? 'whole text' : `${part} split`}, ${r.tokens} characters scored): ` +
            `loss ${r.loss.toFixed(4)} nats/char | ppl ${r.ppl.toFixed(3)} | bpc ${r.bpc.toFixed(4)} | bits/byte ${r.bitsPerByte.toFixed(4)} | ppl per ${DEFAULT_BPE_ENCODING} token ${bpe.ppl.toFixed(3)}\n` +
            `backend ${backend}\n`,
        );
      }
    },
  );
}

/**
 * A run trained with a 0% test (or val) part has none to score: refused by name
 * rather than scoring an empty part, so a missing test split is never mistaken
 * for one that was held out.
 */
function refuseEmptyPart(ckpt: LoadedCheckpoint, part: 'val' | 'test'): void {
  const s = ckpt.training.split;
  if (s[part] > 0) return;
  const which = part === 'test' ? 'test' : 'validation';
  throw new DataError(
    `${ckpt.path} was trained with --split ${s.train},${s.val},${s.test}, which held out no ${which} split; score a whole other text instead (charlm eval ${ckpt.path} <corpus>, without --split).`,
  );
}

/**
 * The corpus named in the checkpoint, refused unless it still has the size it had
 * when trained on: the split boundaries are positions, so a changed text would
 * silently score a different (and possibly trained-on) part.
 */
async function trainingCorpus(ckpt: LoadedCheckpoint): Promise<Corpus> {
  const stored = ckpt.corpus;
  const passIt = `pass the corpus to score: charlm eval ${ckpt.path} <corpus>`;
  let corpus: Corpus;
  if (isAbsolute(stored.source)) {
    try {
      corpus = await loadCorpus(stored.source);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      throw new DataError(`${ckpt.path} was trained on ${stored.source}, which cannot be read now (${e.message.replace(/\.$/, '')}); ${passIt}.`);
    }
  } else if (isBundled(stored.name)) {
    // Not loadCorpus(name): a file of that name in the working folder would win over the bundled text.
    const { text, source } = loadBundled(stored.name);
    corpus = { name: stored.name, source, text, bytes: Buffer.byteLength(text) };
  } else {
    throw new DataError(`${ckpt.path} was trained on ${stored.name} (${stored.source}), which charlm cannot find by itself; ${passIt}.`);
  }
  if (corpus.bytes !== stored.bytes) {
    throw new DataError(
      `${corpus.source} has changed since ${ckpt.path} was trained on it (${stored.bytes} bytes then, ${corpus.bytes} now), so its validation split cannot be found; ${passIt}.`,
    );
  }
  return corpus;
}
