import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/errors.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContents } from '../../src/checkpoint/run-checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';
import { loadForUse } from '../../src/cli/checkpoint-model.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { DataError } from '../../src/data/errors.js';
import { decodeText } from '../../src/data/normalize.js';
import { CharVocab } from '../../src/data/vocab.js';
import type { ModelConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';

/**
 * Property tests: whatever bytes arrive, a loader either returns or throws its
 * own layer's error (what the CLI prints as one sentence), never a TypeError,
 * RangeError or the like. Seeds are random on each run; a failure prints the
 * seed and the shrunk input, and `fc.assert(…, { seed })` replays it.
 */

/** Runs `load`; anything it throws must be one of `allowed` and a single sentence. */
function onlyOwnErrors(load: () => unknown, allowed: readonly (new (...a: never[]) => Error)[]): void {
  try {
    load();
  } catch (e) {
    if (!allowed.some((t) => e instanceof t)) throw e;
    const message = (e as Error).message;
    if (message.includes('\n') || !/[.!)]$/.test(message)) throw new Error(`not one sentence: ${JSON.stringify(message)}`);
  }
}

async function onlyOwnErrorsAsync(load: () => Promise<unknown>, allowed: readonly (new (...a: never[]) => Error)[]): Promise<void> {
  try {
    await load();
  } catch (e) {
    if (!allowed.some((t) => e instanceof t)) throw e;
    if ((e as Error).message.includes('\n')) throw new Error(`not one sentence: ${JSON.stringify((e as Error).message)}`);
  }
}

const model: ModelConfig = { cell: 'lstm', vocabSize: 5, embed: 3, hidden: 4, layers: 1, dropout: 0 };
const rng = Rng.seeded(4);
const params = initParams(model, rng);
const contents: CheckpointContents = {
  model,
  params,
  optimizer: { kind: 'adam', step: 3, first: params.map(() => rng.uniform()), second: params.map(() => rng.uniform()) },
  state: { h: [new Float32Array(2 * 4)], c: [new Float32Array(2 * 4)] },
  batch: 2,
  vocab: { type: 'char', symbols: ['\n', ' ', 'a', 'é', '🐋'] },
  training: {
    batch: 2, seq: 4, lr: 0.002, clip: 5, optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0.9 }, schedule: { kind: 'constant' },
    budget: { steps: 10 }, evalEvery: 5, sampleEvery: 0, sampleLength: 10, temperature: 1, seed: 1, split: { train: 90, val: 5, test: 5 }, maxNonFinite: 5, forgetBias: 1,
  },
  progress: { step: 3, position: { epoch: 0, window: 3 }, rng: [1, 2, 3, 4], elapsedMs: 10, best: { step: 3, valLoss: 1.2 }, history: [{ step: 3, valLoss: 1.2, valBpc: 1.7 }] },
  corpus: { name: 'notes', source: '/tmp/notes.txt', bytes: 1234 },
};
const valid = encodeCheckpoint(contents);
const headerEnd = 8 + Number(valid.readBigUInt64LE(0));

/** A valid checkpoint with some bytes changed, cut, or added: the damage a disk or a copy does. */
const damaged = fc.oneof(
  fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
    const b = Buffer.from(valid);
    for (const [at, mask] of flips) b[at] ^= mask;
    return b;
  }),
  // Mostly in the header, where the JSON parser and the validation live.
  fc.tuple(fc.nat({ max: headerEnd - 1 }), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]) => {
    const b = Buffer.from(valid);
    b.set(bytes.subarray(0, b.length - at), at);
    return b;
  }),
  fc.nat({ max: valid.length }).map((n) => valid.subarray(0, n)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => Buffer.concat([valid, extra])),
);

/** Any JSON value, placed where the header goes, with a correct length prefix. */
const anyHeader = fc.jsonValue({ maxDepth: 4 }).map((v) => {
  const json = Buffer.from(JSON.stringify(v) ?? 'null');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json]);
});

/**
 * A header shaped like a safetensors header: tensor entries with plausible and
 * implausible dtypes, shapes and offsets, and most of the time a checksums
 * entry well-formed enough (wrong values) that the entries get validated.
 */
const tensorEntry = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        dtype: fc.oneof(fc.constant('F32'), fc.constant('F16'), fc.jsonValue({ maxDepth: 1 })),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
        data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 64 }), fc.integer({ min: -1, max: 64 })), fc.jsonValue({ maxDepth: 1 })),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: ['dtype', 'shape', 'data_offsets'] },
    ),
  },
);
const shapedHeader = fc
  .record({
    tensors: fc.dictionary(fc.string({ maxLength: 6 }), tensorEntry, { maxKeys: 4 }),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
    checksums: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null')),
    data: fc.uint8Array({ maxLength: 96 }),
  })
  .map(({ tensors, metadata, checksums, data }) => {
    const sums = checksums ?? JSON.stringify({ algorithm: 'crc32', header: '00000000', tensors: Object.fromEntries(Object.keys(tensors).map((k) => [k, '00000000'])) });
    const json = Buffer.from(JSON.stringify({ __metadata__: { ...metadata, checksums: sums }, ...tensors }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  });

/** Well-formed safetensors with valid checksums but metadata anyone could have written: only validation stands in the way. */
const parsed = decodeSafetensors(valid, 'valid');
const forged = fc
  .record({
    key: fc.constantFrom(...Object.keys(parsed.metadata)),
    value: fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 40 })),
  })
  .map(({ key, value }) => encodeSafetensors(parsed.tensors, { ...parsed.metadata, [key]: value }));

describe('the checkpoint loader on random and damaged bytes', () => {
  it('decodeSafetensors: random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => onlyOwnErrors(() => decodeSafetensors(Buffer.from(b), 'f'), [CheckpointError])), { numRuns: 500 });
  });

  it('decodeCheckpoint: any JSON as the header', () => {
    fc.assert(fc.property(anyHeader, (b) => onlyOwnErrors(() => decodeCheckpoint(b, 'f'), [CheckpointError])), { numRuns: 300 });
  });

  it('decodeCheckpoint: headers shaped like safetensors with odd tensor entries', () => {
    fc.assert(fc.property(shapedHeader, (b) => onlyOwnErrors(() => decodeCheckpoint(b, 'f'), [CheckpointError])), { numRuns: 700 });
  });

  it('decodeCheckpoint: bit flips, overwrites, truncation and trailing bytes in a valid file', () => {
    fc.assert(fc.property(damaged, (b) => onlyOwnErrors(() => decodeCheckpoint(b, 'f'), [CheckpointError])), { numRuns: 1500 });
  });

  it('decodeCheckpoint: one metadata entry replaced by arbitrary JSON or text, checksums recomputed', () => {
    fc.assert(fc.property(forged, (b) => onlyOwnErrors(() => decodeCheckpoint(b, 'f'), [CheckpointError])), { numRuns: 500 });
  });

  describe('loadForUse (what sample, eval and info read a file with) on forged and damaged files', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'charlm-fuzz-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('never throws anything but CheckpointError or DataError', async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(forged, damaged), async (b) => {
          const file = join(dir, `c${i++ % 4}.safetensors`);
          writeFileSync(file, b);
          await onlyOwnErrorsAsync(() => loadForUse(file), [CheckpointError, DataError]);
        }),
        { numRuns: 400 },
      );
    });
  });
});

describe('the corpus loader on random and damaged bytes', () => {
  const text = Buffer.from('Call me Ishmael. naïve café — שָׁלוֹם 🐋 e\u0301\r\n'.repeat(4));

  it('decodeText: random bytes and damaged UTF-8 give text or a DataError', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.array(fc.tuple(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
        const b = Buffer.from(text);
        for (const [at, mask] of flips) b[at] ^= mask;
        return b;
      }),
      fc.nat({ max: text.length }).map((n) => text.subarray(0, n)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        let decoded: string | undefined;
        onlyOwnErrors(() => (decoded = decodeText(b, 'f.txt')), [DataError]);
        // What it accepts is well-formed text: no lone surrogate, no CR, no NUL.
        if (decoded !== undefined) expect(decoded).not.toMatch(/[\p{Cs}\r\0]/u);
      }),
      { numRuns: 1500 },
    );
  });

  describe('loadCorpus on files', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'charlm-fuzz-corpus-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('returns a corpus or throws a DataError', async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (b) => {
          const file = join(dir, `f${i++ % 4}.txt`);
          writeFileSync(file, b);
          await onlyOwnErrorsAsync(() => loadCorpus(file), [DataError]);
        }),
        { numRuns: 300 },
      );
    });
  });

  it('a character vocabulary round-trips any string exactly, astral characters and lone surrogates included', () => {
    const symbol = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)),
    );
    fc.assert(
      fc.property(fc.string({ unit: symbol, minLength: 1, maxLength: 200 }), (s) => {
        const vocab = CharVocab.fromText(s);
        expect(vocab.decode(vocab.encode(s))).toBe(s);
        expect(vocab.symbols.every((sym) => [...sym].length === 1)).toBe(true);
        expect(vocab.size).toBe(new Set(s).size);
      }),
      { numRuns: 500 },
    );
  });
});
