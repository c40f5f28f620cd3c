import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';
import type { Tensors } from '../../src/checkpoint/safetensors.js';

const FILE = 'run/latest.safetensors';

function sample(): Tensors {
  return {
    'embed.weight': { shape: [3, 2], data: Float32Array.from([1, -2, 0.5, 1e-40, Number.NaN, -0]) },
    'cells.0.w_hh': { shape: [2, 2, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, Number.POSITIVE_INFINITY]) },
    scalar: { shape: [], data: Float32Array.from([42]) },
    empty: { shape: [0, 3], data: new Float32Array(0) },
    'adam.m.ünïcode': { shape: [1], data: Float32Array.from([-3.25]) },
  };
}

const META = { format: 'charlm/1', config: JSON.stringify({ cell: 'lstm', hidden: 128 }), note: 'naïve 🐳' };

/** Reads the header the way the safetensors spec describes it, independently of decodeSafetensors. */
function readHeader(buf: Buffer): { n: number; header: Record<string, unknown>; dataStart: number } {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  return { n, header, dataStart: 8 + n };
}

/** Rebuilds a file with an edited header and the same data bytes, padded as the format requires. */
function withHeader(buf: Buffer, edit: (header: Record<string, any>) => void, data?: Buffer): Buffer {
  const { header, dataStart } = readHeader(buf);
  edit(header);
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data ?? buf.subarray(dataStart)]);
}

function refusal(buf: Buffer): CheckpointError {
  try {
    decodeSafetensors(buf, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    const e = error as CheckpointError;
    expect(e.message.startsWith(`${FILE} `)).toBe(true);
    expect(e.message.endsWith('.')).toBe(true);
    expect(e.file).toBe(FILE);
    return e;
  }
  throw new Error('expected decodeSafetensors to refuse the buffer');
}

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips tensors bit for bit, and the metadata without the checksum entry', () => {
    const tensors = sample();
    const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, META), FILE);
    expect(metadata).toEqual(META);
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name].shape).toEqual(t.shape);
      expect(back[name].data).toBeInstanceOf(Float32Array);
      expect(new Uint8Array(back[name].data.buffer)).toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  });

  it('round-trips no tensors at all', () => {
    expect(decodeSafetensors(encodeSafetensors({}, {}), FILE)).toEqual({ tensors: {}, metadata: {} });
  });

  it('reads a tensor from a view into a larger array', () => {
    const big = Float32Array.from([9, 9, 1, 2, 3, 9]);
    const buf = encodeSafetensors({ v: { shape: [3], data: big.subarray(2, 5) } }, {});
    expect(Array.from(decodeSafetensors(buf, FILE).tensors.v.data)).toEqual([1, 2, 3]);
  });

  it('returns copies that do not alias the buffer, and decodes from any byte offset', () => {
    const buf = encodeSafetensors(sample(), META);
    const shifted = Buffer.alloc(buf.length + 3);
    buf.copy(shifted, 3);
    const view = shifted.subarray(3);
    const decoded = decodeSafetensors(view, FILE);
    view.fill(0);
    expect(decoded.tensors['embed.weight'].data[0]).toBe(1);
  });

  it('keeps a tensor called __proto__ as an ordinary name', () => {
    const tensors = Object.fromEntries([['__proto__', { shape: [1], data: Float32Array.from([7]) }]]) as Tensors;
    const back = decodeSafetensors(encodeSafetensors(tensors, {}), FILE).tensors;
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });
});

describe('safetensors layout (as Python safetensors reads it)', () => {
  it('starts the data at an 8-byte-aligned offset, padding the JSON header with spaces', () => {
    for (const extra of ['', 'x', 'xx', 'xxx', 'xxxx', 'xxxxx', 'xxxxxx', 'xxxxxxx']) {
      const buf = encodeSafetensors(sample(), { ...META, extra });
      const { n, dataStart } = readHeader(buf);
      expect(n % 8).toBe(0);
      expect(dataStart % 8).toBe(0);
      const headerBytes = buf.subarray(8, 8 + n);
      const jsonEnd = headerBytes.lastIndexOf(0x7d) + 1; // '}'
      expect(n - jsonEnd).toBeLessThan(8);
      expect(headerBytes.subarray(jsonEnd).every((byte) => byte === 0x20)).toBe(true);
    }
  });

  it('describes each tensor as F32 with its shape and contiguous data_offsets, in order, covering the data exactly', () => {
    const tensors = sample();
    const buf = encodeSafetensors(tensors, META);
    const { header, dataStart } = readHeader(buf);
    const meta = header.__metadata__ as Record<string, unknown>;
    expect(Object.values(meta).every((v) => typeof v === 'string')).toBe(true);
    expect(meta.format).toBe('charlm/1');
    let expected = 0;
    for (const [name, t] of Object.entries(tensors)) {
      const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      expect(Object.keys(entry)).toEqual(['dtype', 'shape', 'data_offsets']);
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(t.shape);
      expect(entry.data_offsets).toEqual([expected, expected + 4 * t.data.length]);
      for (let i = 0; i < t.data.length; i++) {
        const value = buf.readFloatLE(dataStart + expected + 4 * i);
        expect(Object.is(value, t.data[i]) || (Number.isNaN(value) && Number.isNaN(t.data[i]))).toBe(true);
      }
      expected = entry.data_offsets[1];
    }
    expect(dataStart + expected).toBe(buf.length);
  });

  it('writes little-endian float32 bytes and a little-endian header length', () => {
    const buf = encodeSafetensors({ a: { shape: [2], data: Float32Array.from([1, -2]) } }, {});
    expect(Array.from(buf.subarray(buf.length - 8))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    const n = buf.readUInt32LE(0);
    expect(buf.readUInt32LE(4)).toBe(0);
    expect(buf.length).toBe(8 + n + 8);
    expect(buf.subarray(8, 9).toString()).toBe('{');
  });

  it('stores one CRC-32 per tensor and one over the rest of the header', () => {
    const buf = encodeSafetensors(sample(), META);
    const meta = readHeader(buf).header.__metadata__ as Record<string, string>;
    const sums = JSON.parse(meta.checksums) as { algorithm: string; header: string; tensors: Record<string, string> };
    expect(sums.algorithm).toBe('crc32');
    expect(sums.header).toMatch(/^[0-9a-f]{8}$/);
    expect(Object.keys(sums.tensors)).toEqual(Object.keys(sample()));
  });

  it('still loads after a rewrite that reorders header entries and metadata keys', () => {
    const buf = encodeSafetensors(sample(), META);
    const reordered = withHeader(buf, (h) => {
      const entries = Object.entries(h).reverse();
      for (const key of Object.keys(h)) delete h[key];
      for (const [k, v] of entries) h[k] = k === '__metadata__' ? Object.fromEntries(Object.entries(v as object).reverse()) : v;
    });
    expect(decodeSafetensors(reordered, FILE).metadata).toEqual(META);
  });
});

describe('encodeSafetensors refuses', () => {
  const one = { shape: [2], data: new Float32Array(2) };
  it.each([
    ['data that does not match the shape', { w: { shape: [3], data: new Float32Array(2) } }, {}, /shape \[3\] \(3 values\) but 2 values/],
    ['a negative dimension', { w: { shape: [-1], data: new Float32Array(0) } }, {}, /invalid shape/],
    ['a fractional dimension', { w: { shape: [1.5], data: new Float32Array(1) } }, {}, /invalid shape/],
    ['a tensor called __metadata__', { __metadata__: one }, {}, /cannot be called/],
    ['data that is not Float32Array', { w: { shape: [2], data: new Float64Array(2) } }, {}, /Float32Array/],
    ['the reserved checksums key', { w: one }, { checksums: 'mine' }, /reserved/],
    ['a metadata value that is not a string', { w: one }, { step: 3 }, /must be a string/],
  ])('%s', (_what, tensors, metadata, message) => {
    expect(() => encodeSafetensors(tensors as Tensors, metadata as Record<string, string>)).toThrow(CheckpointError);
    expect(() => encodeSafetensors(tensors as Tensors, metadata as Record<string, string>)).toThrow(message);
  });
});

describe('decodeSafetensors refuses a damaged file with one sentence naming it', () => {
  const good = () => encodeSafetensors(sample(), META);
  const pair = () =>
    encodeSafetensors({ a: { shape: [2], data: Float32Array.from([1, 2]) }, b: { shape: [2], data: Float32Array.from([3, 4]) } }, {});

  it('shorter than 8 bytes', () => {
    expect(refusal(Buffer.from([1, 2, 3])).message).toBe(`${FILE} is too short to be a checkpoint (3 bytes).`);
    refusal(Buffer.alloc(0));
  });

  it('a header length beyond the end of the file', () => {
    const buf = good();
    buf.writeBigUInt64LE(BigInt(buf.length), 0);
    expect(refusal(buf).message).toMatch(/header length field says \d+ bytes but only \d+ follow/);
    const huge = good();
    huge.writeBigUInt64LE(2n ** 63n, 0);
    refusal(huge);
  });

  it('truncated anywhere', () => {
    const buf = good();
    const { dataStart } = readHeader(buf);
    for (const cut of [9, dataStart - 1, dataStart, dataStart + 5, buf.length - 4, buf.length - 1]) {
      refusal(buf.subarray(0, cut));
    }
    expect(refusal(buf.subarray(0, buf.length - 4)).message).toMatch(/is truncated: tensor ".*" ends at byte \d+ of the data but only \d+ bytes/);
  });

  it('a flipped bit in the data', () => {
    const buf = good();
    const { dataStart } = readHeader(buf);
    buf[dataStart + 2] ^= 0x10;
    expect(refusal(buf).message).toBe(`${FILE} fails the checksum of tensor "embed.weight": the file is damaged.`);
  });

  it('a flipped bit in every data byte, one at a time', () => {
    const original = pair();
    const { dataStart } = readHeader(original);
    for (let i = dataStart; i < original.length; i++) {
      const buf = Buffer.from(original);
      buf[i] ^= 0x01;
      refusal(buf);
    }
  });

  it('a header that is not JSON', () => {
    const buf = good();
    buf.write('not json', 8, 'utf8');
    expect(refusal(buf).message).toBe(`${FILE} is not a checkpoint: its header is not valid JSON.`);
  });

  it('a header that is not UTF-8', () => {
    const buf = good();
    buf[12] = 0xff;
    refusal(buf);
  });

  it('a header that is JSON but not an object', () => {
    const buf = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[]      ')]);
    expect(refusal(buf).message).toBe(`${FILE} is not a checkpoint: its header is not a JSON object.`);
  });

  it('a dtype other than F32', () => {
    const buf = withHeader(good(), (h) => (h['embed.weight'].dtype = 'F16'));
    expect(refusal(buf).message).toBe(`${FILE} stores tensor "embed.weight" as "F16", but charlm reads only F32.`);
  });

  it('a shape that does not match the offsets', () => {
    const buf = withHeader(good(), (h) => (h['embed.weight'].shape = [3, 3]));
    expect(refusal(buf).message).toBe(`${FILE} gives tensor "embed.weight" shape [3,3] (36 bytes) but offsets spanning 24 bytes.`);
  });

  it('a shape changed to another of the same size', () => {
    const buf = withHeader(good(), (h) => (h['embed.weight'].shape = [2, 3]));
    expect(refusal(buf).message).toBe(`${FILE} fails its header checksum: its metadata or shapes are damaged.`);
  });

  it('an edited metadata value', () => {
    const buf = withHeader(good(), (h) => (h.__metadata__.config = '{"cell":"gru","hidden":128}'));
    expect(refusal(buf).message).toMatch(/fails its header checksum/);
  });

  it.each([
    ['a negative offset', [-4, 4]],
    ['an offset past the data', [0, 1 << 20]],
    ['begin after end', [8, 0]],
    ['a fractional offset', [0.5, 8.5]],
    ['three offsets', [0, 8, 16]],
  ])('%s', (_what, offsets) => {
    refusal(withHeader(pair(), (h) => (h.a.data_offsets = offsets)));
  });

  it('offsets out of range with a matching shape', () => {
    const buf = withHeader(pair(), (h) => {
      h.b.shape = [4];
      h.b.data_offsets = [8, 24];
    });
    expect(refusal(buf).message).toMatch(/is truncated: tensor "b" ends at byte 24 of the data but only 16 bytes/);
  });

  it('overlapping tensors', () => {
    const buf = withHeader(pair(), (h) => (h.b.data_offsets = [4, 12]));
    expect(refusal(buf).message).toBe(`${FILE} has overlapping data for tensor "b".`);
  });

  it('a gap between tensors', () => {
    const buf = withHeader(pair(), (h) => {
      h.a.shape = [1];
      h.a.data_offsets = [0, 4];
    });
    expect(refusal(buf).message).toBe(`${FILE} has a gap in its data before tensor "b".`);
  });

  it('bytes after the last tensor', () => {
    const buf = pair();
    expect(refusal(Buffer.concat([buf, Buffer.alloc(4)])).message).toBe(
      `${FILE} has 4 bytes after its last tensor, so it is not the file its header describes.`,
    );
  });

  it('a header entry with an unknown field, or not an object', () => {
    refusal(withHeader(pair(), (h) => (h.a.extra = 1)));
    refusal(withHeader(pair(), (h) => (h.a = 'x')));
    refusal(withHeader(pair(), (h) => (h.a.shape = 'x')));
  });

  it('no __metadata__, or a non-string metadata value', () => {
    expect(refusal(withHeader(pair(), (h) => delete h.__metadata__)).message).toMatch(/has no __metadata__ map/);
    expect(refusal(withHeader(pair(), (h) => (h.__metadata__.step = 3))).message).toMatch(/non-string metadata value for "step"/);
  });

  it('a file written without charlm checksums, as plain Python safetensors writes it', () => {
    const buf = withHeader(pair(), (h) => delete h.__metadata__.checksums);
    expect(refusal(buf).message).toBe(`${FILE} has no "checksums" metadata, so it was not written by charlm.`);
  });

  it('malformed or incomplete checksums', () => {
    const edit = (f: (sums: any) => void) =>
      withHeader(pair(), (h) => {
        const sums = JSON.parse(h.__metadata__.checksums as string) as Record<string, unknown>;
        f(sums);
        h.__metadata__.checksums = JSON.stringify(sums);
      });
    expect(refusal(edit((s) => delete s.tensors.b)).message).toBe(`${FILE} has no checksum for tensor "b".`);
    expect(refusal(edit((s) => (s.tensors.c = '00000000'))).message).toMatch(/lists checksums for tensors it does not contain/);
    expect(refusal(edit((s) => (s.algorithm = 'md5'))).message).toMatch(/malformed "checksums" metadata/);
    expect(refusal(edit((s) => (s.tensors.a = 'xyz'))).message).toMatch(/malformed "checksums" metadata/);
    refusal(withHeader(pair(), (h) => (h.__metadata__.checksums = '{not json')));
  });
});
