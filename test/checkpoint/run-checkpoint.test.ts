import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/errors.js';
import { decodeCheckpoint, encodeCheckpoint, FORMAT_VERSION, type CheckpointContents } from '../../src/checkpoint/run-checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';
import type { ModelConfig } from '../../src/model/config.js';
import { initParams, paramLayout } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const FILE = 'run/latest.safetensors';

let dir: string;
let path: string;
let buf: Buffer;

beforeAll(async () => {
  ({ dir } = corpusFile(englishLike(5000)));
  const args = ['--cell', 'lstm', '--layers', '2', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--steps', '5', '--eval-every', '5'];
  const r = await charlm(['train', join(dir, 'corpus.txt'), ...args, '--backend', 'cpu', '--out', join(dir, 'run'), '--json']);
  expect(r.code, r.stderr).toBe(0);
  path = join(dir, 'run', 'latest.safetensors');
  buf = readFileSync(path);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(bytes: Buffer): CheckpointError {
  try {
    decodeCheckpoint(bytes, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    const e = error as CheckpointError;
    expect(e.message.startsWith(FILE)).toBe(true);
    expect(e.message.endsWith('.')).toBe(true);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected decodeCheckpoint to refuse the buffer');
}

describe('a checkpoint written by charlm train', () => {
  it('is valid safetensors: header length, JSON header, F32 tensors laid end to end up to the file size', () => {
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect(8 + n).toBeLessThanOrEqual(buf.length);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    const metadata = header.__metadata__ as Record<string, unknown>;
    expect(Object.values(metadata).every((v) => typeof v === 'string')).toBe(true);
    expect(metadata).toMatchObject({ format: 'charlm', format_version: String(FORMAT_VERSION) });

    const model = JSON.parse(metadata.model as string) as ModelConfig;
    const expected = new Map(paramLayout(model).specs.map((s) => [s.name, [...s.shape]]));
    const entries = Object.entries(header)
      .filter(([name]) => name !== '__metadata__')
      .map(([name, e]) => ({ name, ...(e as { dtype: string; shape: number[]; data_offsets: [number, number] }) }));
    for (const e of entries) {
      expect(e.dtype, e.name).toBe('F32');
      expect(e.shape.every((d) => Number.isInteger(d) && d >= 0), e.name).toBe(true);
      const [begin, end] = e.data_offsets;
      expect(end - begin, e.name).toBe(4 * e.shape.reduce((a, b) => a * b, 1));
      const want = expected.get(e.name) ?? expected.get(e.name.replace(/^optimizer\.exp_avg(_sq)?\./, ''));
      if (want) expect(e.shape, e.name).toEqual(want);
      else expect(e.shape, e.name).toEqual([4, model.hidden]);
    }
    // Every parameter is there under its PyTorch name, with Adam's two moments.
    for (const name of expected.keys()) {
      expect(header[name]).toBeDefined();
      expect(header[`optimizer.exp_avg.${name}`]).toBeDefined();
      expect(header[`optimizer.exp_avg_sq.${name}`]).toBeDefined();
    }
    entries.sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
    let at = 0;
    for (const e of entries) {
      expect(e.data_offsets[0], e.name).toBe(at);
      at = e.data_offsets[1];
    }
    expect(8 + n + at).toBe(buf.length);
    expect(buf.length).toBe(statSync(path).size);
  });

  it('decodes and encodes back to the same bytes', () => {
    const contents = decodeCheckpoint(buf, path);
    expect(contents.params.length).toBe(paramLayout(contents.model).total);
    expect(encodeCheckpoint(contents).equals(buf)).toBe(true);
  });
});

describe('encodeCheckpoint / decodeCheckpoint', () => {
  const model: ModelConfig = { cell: 'lstm', vocabSize: 7, embed: 3, hidden: 5, layers: 2, dropout: 0.25 };
  const rng = Rng.seeded(9);
  const params = initParams(model, rng);
  const noise = (): Float32Array => Float32Array.from(params, () => rng.between(-1, 1));
  const state = (): Float32Array => Float32Array.from({ length: 2 * model.hidden }, () => rng.between(-1, 1));
  const contents: CheckpointContents = {
    model,
    params,
    optimizer: { kind: 'adam', step: 12, first: noise(), second: noise() },
    state: { h: [state(), state()], c: [state(), state()] },
    batch: 2,
    vocab: { type: 'char', symbols: ['\n', ' ', 'a', 'b', 'c', 'é', '🐋'] },
    training: { batch: 2, seq: 4, note: 'naïve' },
    progress: { step: 12, history: [{ step: 10, valLoss: 1.5, valBpc: 2.1 }] },
    corpus: { name: 'notes', source: '/tmp/notes.txt', bytes: 1234 },
  };

  it('round-trips everything a run needs', () => {
    expect(decodeCheckpoint(encodeCheckpoint(contents), FILE)).toEqual(contents);
  });

  it('round-trips SGD, whose optimizer has no second moment', () => {
    const sgd = { ...contents, optimizer: { kind: 'sgd', step: 3, first: noise(), second: null } };
    expect(decodeCheckpoint(encodeCheckpoint(sgd), FILE)).toEqual(sgd);
  });

  /** The checkpoint rebuilt with edited tensors or metadata, still with valid checksums. */
  function rewritten(edit: (s: ReturnType<typeof decodeSafetensors>) => void): Buffer {
    const s = decodeSafetensors(encodeCheckpoint(contents), FILE);
    edit(s);
    return encodeSafetensors(s.tensors, s.metadata);
  }

  it('refuses a newer format version, saying it is newer', () => {
    const e = refusal(rewritten((s) => (s.metadata.format_version = '99')));
    expect(e.message).toMatch(/version 99, newer than/);
  });

  it('refuses a truncated file', () => {
    const whole = encodeCheckpoint(contents);
    expect(refusal(whole.subarray(0, whole.length - 10)).message).toMatch(/truncated/);
    expect(refusal(whole.subarray(0, 20)).message).toMatch(/truncated|not a checkpoint/);
    expect(refusal(whole.subarray(0, 5)).message).toMatch(/too short/);
  });

  it('refuses a tensor whose shape does not fit the model', () => {
    const e = refusal(
      rewritten((s) => {
        s.tensors['decoder.weight'].shape = [model.hidden, model.vocabSize];
      }),
    );
    expect(e.message).toMatch(/tensor "decoder\.weight" has shape \[5, 7\] where the model needs \[7, 5\]/);
  });

  it('refuses a missing tensor and an unexpected one', () => {
    expect(refusal(rewritten((s) => delete s.tensors['rnn.weight_hh_l1'])).message).toMatch(/"rnn\.weight_hh_l1" is missing/);
    const extra = rewritten((s) => (s.tensors['stray'] = { shape: [1], data: Float32Array.of(1) }));
    expect(refusal(extra).message).toMatch(/unexpected tensor "stray"/);
  });

  it('refuses a file whose metadata was not written by charlm', () => {
    expect(refusal(rewritten((s) => delete s.metadata.format)).message).toMatch(/not say it was written by charlm/);
  });
});
