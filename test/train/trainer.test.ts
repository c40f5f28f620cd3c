import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/compute/backend.js';
import { splitIds } from '../../src/data/split.js';
import { CharVocab } from '../../src/data/vocab.js';
import type { TrainConfig } from '../../src/train/config.js';
import type { TrainEvent } from '../../src/train/events.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from '../../src/train/optimizer.js';
import { TrainStep } from '../../src/train/train-step.js';
import { initParams } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import { zeroState } from '../../src/model/state.js';
import { Trainer } from '../../src/train/trainer.js';
import { englishLike } from '../support/corpus.js';

const text = englishLike(5000);
const vocab = CharVocab.fromText(text);
const config: TrainConfig = {
  batch: 4,
  seq: 16,
  lr: 2e-3,
  clip: 5,
  optimizer: DEFAULT_OPTIMIZER,
  schedule: { kind: 'constant' },
  budget: { steps: 1000 },
  evalEvery: 1000,
  sampleEvery: 0,
  sampleLength: 10,
  temperature: 1,
  seed: 1,
  split: { train: 90, val: 10, test: 0 },
  maxNonFinite: 3,
  forgetBias: 1,
  documents: null,
};

async function trainer(overrides: Partial<TrainConfig> = {}) {
  const compute = await selectBackend('cpu');
  const t = new Trainer({
    compute,
    corpus: { name: 'test', source: 'memory', text, bytes: text.length },
    vocab,
    split: splitIds(vocab.encode(text), config.split),
    model: { cell: 'gru', vocabSize: vocab.size, embed: 8, hidden: 16, layers: 1, dropout: 0 },
    config: { ...config, ...overrides },
    outDir: mkdtempSync(join(tmpdir(), 'charlm-trainer-')),
  });
  const events: TrainEvent[] = [];
  t.subscribe((e) => events.push(e));
  return { t, events };
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};
const steps = (events: TrainEvent[]): number => events.filter((e) => e.event === 'step').length;

describe('Trainer controls', () => {
  it('pause stops step events, save works while paused, resume continues, stop ends with latest saved', async () => {
    const { t, events } = await trainer();
    const run = t.run();
    await until(() => steps(events) >= 2);
    t.pause();
    await new Promise((r) => setTimeout(r, 100));
    const held = steps(events);
    await new Promise((r) => setTimeout(r, 300));
    expect(steps(events)).toBe(held);
    expect(t.paused).toBe(true);

    t.saveNow();
    await until(() => events.some((e) => e.event === 'checkpoint'));
    expect(steps(events)).toBe(held);

    t.resume();
    await until(() => steps(events) >= held + 3);
    t.stop();
    const done = await run;
    expect(done).toMatchObject({ event: 'done', stopped: true });
    expect(events.at(-2)).toMatchObject({ event: 'checkpoint', kind: 'latest', step: done.step });
  });

  it('a step whose loss is not finite is reported and not applied', async () => {
    const compute = await selectBackend('cpu');
    const model = { cell: 'rnn' as const, vocabSize: 5, embed: 3, hidden: 4, layers: 1, dropout: 0 };
    const step = new TrainStep(compute.runner, model, 2, 3, DEFAULT_OPTIMIZER);
    const params = initParams(model, Rng.seeded(1));
    params[params.length - 1] = Number.POSITIVE_INFINITY;
    const ids = Float32Array.of(0, 1, 2, 3, 4, 0);
    const r = await step.run(params, initialOptimizerState(DEFAULT_OPTIMIZER, params.length), { tokens: ids, targets: ids, weights: new Float32Array(6).fill(1 / 6) }, zeroState(model, 2), null, 1e-3, 5);
    expect(r.applied).toBe(false);
    expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)).toBe(false);
    expect(r.params).toBe(params);
  });
});
