import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { selectBackend, type Compute } from '../../src/compute/backend.js';
import { splitIds } from '../../src/data/split.js';
import { CharVocab } from '../../src/data/vocab.js';
import type { TrainConfig } from '../../src/train/config.js';
import type { DoneEvent, TrainEvent } from '../../src/train/events.js';
import { DEFAULT_OPTIMIZER } from '../../src/train/optimizer.js';
import { parseProgress } from '../../src/train/progress.js';
import { Trainer, TrainingError } from '../../src/train/trainer.js';
import { webgpuAvailable } from '../support/backends.js';
import { englishLike } from '../support/corpus.js';

const text = englishLike(6000);
const vocab = CharVocab.fromText(text);
const config: TrainConfig = {
  batch: 4,
  seq: 8,
  lr: 3e-3,
  clip: 5,
  optimizer: DEFAULT_OPTIMIZER,
  schedule: { kind: 'constant' },
  budget: { steps: 40 },
  evalEvery: 20,
  sampleEvery: 0,
  sampleLength: 10,
  temperature: 1,
  seed: 3,
  split: { train: 90, val: 10, test: 0 },
  maxNonFinite: 3,
  forgetBias: 1,
  documents: null,
};

function trainer(compute: Compute, outDir = mkdtempSync(join(tmpdir(), 'charlm-resident-'))) {
  const t = new Trainer({
    compute,
    corpus: { name: 'test', source: 'memory', text, bytes: text.length },
    vocab,
    split: splitIds(vocab.encode(text), config.split),
    model: { cell: 'lstm', vocabSize: vocab.size, embed: 8, hidden: 16, layers: 2, dropout: 0.1 },
    config,
    outDir,
  });
  const events: TrainEvent[] = [];
  t.subscribe((e) => events.push(e));
  return { t, events, outDir };
}

const gpu = await webgpuAvailable();

describe.skipIf(!gpu)('training with the parameters resident on webgpu', () => {
  it('ends where a webasm run from the same seed ends, within float32 rounding', async () => {
    const webasm = await selectBackend('webasm');
    const host = await trainer(webasm).t.run();
    webasm.runner.destroy();
    const webgpu = await selectBackend('webgpu');
    const device = trainer(webgpu);
    const resident = await device.t.run();
    expect(resident.backend).toMatch(/webgpu fused-encoder pipeline/);
    webgpu.runner.destroy();
    expect(resident.step).toBe(40);
    const diff = Math.abs(resident.valLoss! - host.valLoss!);
    expect(diff / host.valLoss!).toBeLessThan(1e-3);
    // the checkpoint holds what the device held: its val loss is the one reported
    const saved = await loadCheckpoint(resident.checkpoint);
    expect(parseProgress(saved.progress, resident.checkpoint).step).toBe(40);
  });

  it('a device lost mid-run ends it with one sentence and latest from the last read-back step', async () => {
    const webgpu = await selectBackend('webgpu');
    const { t, events, outDir } = trainer(webgpu);
    const require = createRequire(import.meta.url);
    const { WebGPUContext } = require('gpu.js/src/backend/web-gpu/context.js') as { WebGPUContext: { acquire(): Promise<{ device: { destroy(): void } }> } };
    t.subscribe((e) => {
      // step 25: after the eval (and read-back) at step 20
      if (e.event === 'step' && e.step === 25) void WebGPUContext.acquire().then((c) => c.device.destroy());
    });
    const error = await t.run().then(
      (done: DoneEvent) => done,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).message).toMatch(/^The GPU device was lost at step 2[6-7] \(.*\); .*latest.* holds step 20, the last one read back from the device\.$/);
    const latest = join(outDir, 'latest.safetensors');
    expect(parseProgress((await loadCheckpoint(latest)).progress, latest).step).toBe(20);
    expect(events.some((e) => e.event === 'checkpoint' && e.step === 20)).toBe(true);
    webgpu.runner.destroy();
  });
});
