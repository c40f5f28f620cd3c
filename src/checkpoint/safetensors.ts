import { crc32 } from 'node:zlib';
import { CheckpointError } from './errors.js';

/** A float32 tensor: row-major data whose length is the product of the shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export type Tensors = Record<string, Tensor>;

export interface Safetensors {
  tensors: Tensors;
  /** The `__metadata__` string map, without the checksum entry this module adds. */
  metadata: Record<string, string>;
}

/**
 * Metadata key holding the checksums, as JSON:
 * `{ "algorithm": "crc32", "header": hex, "tensors": { name: hex } }`.
 * CRC-32 (zlib's, in node:zlib) because the threat is accidental damage (a bit
 * flip, a truncated copy), not tampering; it runs at memory speed. "header"
 * covers what the tensor checksums cannot see: the other metadata (model
 * config, data position, RNG state) and the shapes. It is computed over a
 * canonical form sorted by name, so a tool that rewrites the file with the
 * same tensors and metadata in another order keeps it loadable.
 */
export const CHECKSUMS_KEY = 'checksums';

const METADATA_KEY = '__metadata__';
const F32_BYTES = 4;
// Python's safetensors refuses larger headers; keep every file we write loadable there.
export const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface HeaderEntry {
  dtype: 'F32';
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Lays tensors out in the safetensors format: 8-byte little-endian header
 * length N, N bytes of JSON header padded with spaces so the data starts at an
 * 8-byte-aligned offset (as Python's safetensors writes it), then the raw
 * little-endian float32 data of each tensor in the given order, without gaps.
 */
export function encodeSafetensors(tensors: Tensors, metadata: Record<string, string>): Buffer {
  for (const [key, value] of Object.entries(metadata)) {
    if (key === CHECKSUMS_KEY) {
      throw new CheckpointError(`The metadata key "${CHECKSUMS_KEY}" is reserved for the tensor checksums.`);
    }
    if (typeof value !== 'string') {
      throw new CheckpointError(`Metadata value "${key}" must be a string, as safetensors allows only strings.`);
    }
  }
  const names = Object.keys(tensors);
  // Entry lists and Object.fromEntries, not assignment: a tensor named "__proto__" must stay a plain key.
  const header: [string, HeaderEntry][] = [];
  const tensorSums: [string, string][] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    if (name === METADATA_KEY || name.length === 0) {
      throw new CheckpointError(`A tensor cannot be called "${name}" in a safetensors file.`);
    }
    if (!(data instanceof Float32Array)) {
      throw new CheckpointError(`Tensor "${name}" must hold a Float32Array.`);
    }
    const count = elementCount(shape);
    if (count === undefined) {
      throw new CheckpointError(`Tensor "${name}" has an invalid shape ${JSON.stringify(shape)}.`);
    }
    if (count !== data.length) {
      throw new CheckpointError(`Tensor "${name}" has shape ${JSON.stringify(shape)} (${count} values) but ${data.length} values of data.`);
    }
    const bytes = littleEndianBytes(data);
    header.push([name, { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + bytes.length] }]);
    tensorSums.push([name, hex(crc32(bytes))]);
    blobs.push(bytes);
    offset += bytes.length;
  }
  const shapes = Object.fromEntries(names.map((n) => [n, tensors[n].shape]));
  const checksums = { algorithm: 'crc32', header: headerChecksum(metadata, shapes), tensors: Object.fromEntries(tensorSums) };
  const fullMetadata = Object.fromEntries([...Object.entries(metadata), [CHECKSUMS_KEY, JSON.stringify(checksums)]]);
  const json = JSON.stringify(Object.fromEntries([[METADATA_KEY, fullMetadata], ...header]));
  const jsonBytes = Buffer.from(json, 'utf8');
  const headerLength = Math.ceil(jsonBytes.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError(`The checkpoint header would be ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} that safetensors accepts.`);
  }
  const out = Buffer.alloc(8 + headerLength + offset, 0x20);
  out.writeBigUInt64LE(BigInt(headerLength), 0);
  jsonBytes.copy(out, 8);
  let at = 8 + headerLength;
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.length;
  }
  return out;
}

/**
 * Reads a safetensors buffer written by encodeSafetensors and checks every
 * part of it; anything off throws a CheckpointError whose one sentence names
 * `fileName`. The tensors are copies, independent of `buf`.
 */
export function decodeSafetensors(buf: Buffer, fileName: string): Safetensors {
  const fail = (what: string): never => {
    throw new CheckpointError(`${fileName} ${what}.`, { file: fileName });
  };
  if (buf.length < 8) {
    fail(`is too short to be a checkpoint (${buf.length} bytes)`);
  }
  const declared = buf.readBigUInt64LE(0);
  if (declared > BigInt(buf.length - 8)) {
    fail(`is truncated or not a checkpoint: its header length field says ${declared} bytes but only ${buf.length - 8} follow`);
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) {
    fail(`has a ${headerLength}-byte header, more than the ${MAX_HEADER_BYTES} that safetensors accepts`);
  }

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLength)));
  } catch {
    fail('is not a checkpoint: its header is not valid JSON');
  }
  if (!isRecord(header)) {
    return fail('is not a checkpoint: its header is not a JSON object');
  }

  const rawMetadata = header[METADATA_KEY];
  if (!isRecord(rawMetadata)) {
    return fail(`has no ${METADATA_KEY} map, so it was not written by charlm`);
  }
  for (const [key, value] of Object.entries(rawMetadata)) {
    if (typeof value !== 'string') fail(`has a non-string metadata value for "${key}"`);
  }
  const checksums = parseChecksums(rawMetadata[CHECKSUMS_KEY], fail);
  const metadata = Object.fromEntries(Object.entries(rawMetadata).filter(([key]) => key !== CHECKSUMS_KEY)) as Record<string, string>;

  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    if (!isRecord(raw)) return fail(`has a malformed header entry for tensor "${name}"`);
    const extra = Object.keys(raw).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) fail(`has an unknown field "${extra[0]}" in tensor "${name}"`);
    if (raw.dtype !== 'F32') fail(`stores tensor "${name}" as ${JSON.stringify(raw.dtype)}, but charlm reads only F32`);
    const shape = raw.shape;
    const count = Array.isArray(shape) ? elementCount(shape) : undefined;
    if (count === undefined) return fail(`has an invalid shape for tensor "${name}"`);
    const offsets = raw.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isByteOffset) || offsets[0] > offsets[1]) {
      return fail(`has invalid data offsets for tensor "${name}"`);
    }
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * F32_BYTES) {
      fail(`gives tensor "${name}" shape ${JSON.stringify(shape)} (${count * F32_BYTES} bytes) but offsets spanning ${end - begin} bytes`);
    }
    if (end > dataLength) {
      fail(`is truncated: tensor "${name}" ends at byte ${end} of the data but only ${dataLength} bytes of data follow the header`);
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const entry of entries) {
    if (entry.begin < expected) fail(`has overlapping data for tensor "${entry.name}"`);
    if (entry.begin > expected) fail(`has a gap in its data before tensor "${entry.name}"`);
    expected = entry.end;
  }
  if (expected !== dataLength) {
    fail(`has ${dataLength - expected} bytes after its last tensor, so it is not the file its header describes`);
  }

  const shapes = Object.fromEntries(entries.map((e) => [e.name, e.shape]));
  if (checksums.header !== headerChecksum(metadata, shapes)) {
    fail('fails its header checksum: its metadata or shapes are damaged');
  }
  const listed = Object.keys(checksums.tensors);
  const unlisted = entries.find((e) => !Object.hasOwn(checksums.tensors, e.name));
  if (unlisted !== undefined) fail(`has no checksum for tensor "${unlisted.name}"`);
  if (listed.length !== entries.length) fail('lists checksums for tensors it does not contain');

  const decoded: [string, Tensor][] = [];
  for (const { name, shape, begin, end } of entries) {
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    if (hex(crc32(bytes)) !== checksums.tensors[name]) {
      fail(`fails the checksum of tensor "${name}": the file is damaged`);
    }
    decoded.push([name, { shape, data: float32FromLittleEndian(bytes) }]);
  }
  return { tensors: Object.fromEntries(decoded), metadata };
}

function parseChecksums(raw: unknown, fail: (what: string) => never): { header: string; tensors: Record<string, string> } {
  if (typeof raw !== 'string') return fail(`has no "${CHECKSUMS_KEY}" metadata, so it was not written by charlm`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail(`has unreadable "${CHECKSUMS_KEY}" metadata`);
  }
  const isHex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{8}$/.test(v);
  if (
    !isRecord(value) ||
    value.algorithm !== 'crc32' ||
    !isHex(value.header) ||
    !isRecord(value.tensors) ||
    !Object.values(value.tensors).every(isHex)
  ) {
    return fail(`has malformed "${CHECKSUMS_KEY}" metadata`);
  }
  return { header: value.header as string, tensors: value.tensors as Record<string, string> };
}

function headerChecksum(metadata: Record<string, string>, shapes: Record<string, number[]>): string {
  const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const canonical = JSON.stringify([Object.entries(metadata).sort(byName), Object.entries(shapes).sort(byName)]);
  return hex(crc32(Buffer.from(canonical, 'utf8')));
}

/** Product of the dimensions, or undefined unless every one is a non-negative integer and the byte size stays exact. */
function elementCount(shape: unknown[]): number | undefined {
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) return undefined;
    count *= dim;
    if (!Number.isSafeInteger(count * F32_BYTES)) return undefined;
  }
  return count;
}

function isByteOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN ? view : Buffer.from(view).swap32();
}

function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  // Copy into a fresh, aligned buffer: the header length makes data offsets only 8-byte aligned
  // relative to the file, and a Buffer from readFile may sit at any offset of its ArrayBuffer.
  const copy = new Uint8Array(bytes);
  if (!LITTLE_ENDIAN) Buffer.from(copy.buffer).swap32();
  return new Float32Array(copy.buffer);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
