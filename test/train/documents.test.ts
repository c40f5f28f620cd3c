import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type Compute } from '../../src/compute/backend.js';
import { BatchStream } from '../../src/data/batches.js';
import { documentIds, documentVocabulary, keepMask, splitCorpusIds } from '../../src/data/documents.js';
import type { ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { initParams } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import { zeroState } from '../../src/model/state.js';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { evaluate } from '../../src/train/evaluate.js';
import type { TrainEvent } from '../../src/train/events.js';
import { DEFAULT_OPTIMIZER } from '../../src/train/optimizer.js';
import { Trainer } from '../../src/train/trainer.js';

const DOCS = ['Anna', 'Bob', 'Cleo', 'Dan', 'Eve', 'Finn', 'Gus', 'Hal', 'Ida', 'Jo'];
const vocab = documentVocabulary(DOCS);
const END = vocab.endOfDocument!;
const model: ModelConfig = { cell: 'lstm', vocabSize: vocab.size, embed: 6, hidden: 8, layers: 2, dropout: 0 };
const params = initParams(model, Rng.seeded(3));

let compute: Compute;
beforeAll(async () => {
  compute = await selectBackend('cpu');
});
afterAll(() => compute.runner.destroy());

describe('the documents mode in a checkpoint', () => {
  const stored = {
    batch: 2, seq: 8, lr: 2e-3, clip: 5, optimizer: DEFAULT_OPTIMIZER, schedule: { kind: 'constant' }, budget: { steps: 1 },
    evalEvery: 10, sampleEvery: 0, sampleLength: 10, temperature: 1, seed: 5, split: { train: 90, val: 10, test: 0 },
    maxNonFinite: 3, forgetBias: 1,
  };

  it('is none for a checkpoint written before document mode, and read back as stored otherwise', () => {
    expect(parseTrainConfig(stored, 'old.safetensors').documents).toBeNull();
    expect(parseTrainConfig({ ...stored, forgetBias: undefined }, 'older.safetensors').documents).toBeNull();
    expect(parseTrainConfig({ ...stored, documents: 'blank-line' }, 'new.safetensors').documents).toBe('blank-line');
  });

  it('refuses a mode charlm does not know, naming the file', () => {
    expect(() => parseTrainConfig({ ...stored, documents: 'page' }, 'odd.safetensors')).toThrow(
      'odd.safetensors has an unusable training configuration: the documents mode "page" is not one of line, blank-line, file.',
    );
  });
});

describe('evaluation in document mode', () => {
  it('scores each document as if alone: one stream with resets spends the nats of every document scored from a zero state', async () => {
    const ids = documentIds(DOCS, vocab);
    const together = await evaluate(new Network(compute.runner, model, 1, 8), params, ids, (id) => vocab.byteLength(id), END);
    let alone = 0;
    for (const doc of DOCS) {
      // END doc END: END is only the first input, so no reset happens inside; the state starts at zero.
      const r = await evaluate(new Network(compute.runner, model, 1, 8), params, documentIds([doc], vocab), (id) => vocab.byteLength(id));
      alone += r.loss * r.tokens;
    }
    expect(together.tokens).toBe(ids.length - 1);
    expect(Math.abs(together.loss * together.tokens - alone) / alone).toBeLessThan(1e-6);
    const carried = await evaluate(new Network(compute.runner, model, 1, 8), params, ids, (id) => vocab.byteLength(id));
    expect(Math.abs(carried.loss * carried.tokens - alone) / alone).toBeGreaterThan(1e-3);
  });
});

describe('training in document mode', () => {
  it('resets the state wherever END is the input of a training window', async () => {
    const config: TrainConfig = {
      batch: 2, seq: 8, lr: 2e-3, clip: 5, optimizer: DEFAULT_OPTIMIZER, schedule: { kind: 'constant' }, budget: { steps: 1 },
      evalEvery: 1000, sampleEvery: 0, sampleLength: 10, temperature: 1, seed: 5, split: { train: 100, val: 0, test: 0 },
      maxNonFinite: 3, forgetBias: 1, documents: 'line',
    };
    const split = splitCorpusIds(documentIds(DOCS, vocab), config.split, END);
    const trainer = new Trainer({
      compute,
      corpus: { name: 'names', source: 'memory', text: DOCS.join('\n'), bytes: 0 },
      vocab,
      split,
      model,
      config,
      outDir: mkdtempSync(join(tmpdir(), 'charlm-documents-')),
    });
    const events: TrainEvent[] = [];
    trainer.subscribe((e) => events.push(e));
    await trainer.run();
    const step = events.find((e) => e.event === 'step');

    const first = new BatchStream(split.train, config.batch, config.seq).next();
    const net = new Network(compute.runner, model, config.batch, config.seq);
    const start = initParams(model, Rng.seeded(config.seed), config.forgetBias);
    const window = { tokens: Float32Array.from(first.inputs), targets: Float32Array.from(first.targets), weights: new Float32Array(16).fill(1 / 16) };
    const reset = await net.forward(start, { ...window, keep: keepMask(first.inputs, END) }, zeroState(model, config.batch));
    const carried = await net.forward(start, window, zeroState(model, config.batch));
    expect(step).toMatchObject({ event: 'step', step: 1, loss: reset.loss });
    expect(reset.loss).not.toBe(carried.loss);
  });
});
