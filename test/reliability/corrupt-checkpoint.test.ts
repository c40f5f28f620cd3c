import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { oneSentence, TINY } from './run.js';

// Truncated files and a newer format version through the CLI are in test/cli/bad-input.test.ts, and every
// refusal of decodeCheckpoint in test/checkpoint/run-checkpoint.test.ts; these are the damages the CLI was not yet shown.

let dir: string;
const at = (name: string): string => join(dir, name);

beforeAll(async () => {
  let corpus: string;
  ({ dir, path: corpus } = corpusFile(englishLike(3000)));
  const r = await charlm(['train', corpus, ...TINY, '--steps', '2', '--eval-every', '2', '--out', at('run')]);
  expect(r.code, r.stderr).toBe(0);
  const good = readFileSync(at('run/latest.safetensors'));
  const headerEnd = 8 + Number(good.readBigUInt64LE(0));

  const flipped = Buffer.from(good);
  // One bit of one float in the middle of the data.
  const bit = headerEnd + Math.floor((good.length - headerEnd) / 2);
  flipped[bit] ^= 0x10;
  writeFileSync(at('bitflip.safetensors'), flipped);

  const notJson = Buffer.from(good);
  notJson.write('<', 8, 'latin1');
  writeFileSync(at('not-json.safetensors'), notJson);

  // Still valid JSON and the same length, but not what was written: only the header checksum can tell.
  const header = good.subarray(8, headerEnd).toString('latin1');
  const edited = header.replace('\\"seed\\":1', '\\"seed\\":7');
  expect(edited).not.toBe(header);
  writeFileSync(at('edited-header.safetensors'), Buffer.concat([good.subarray(0, 8), Buffer.from(edited, 'latin1'), good.subarray(headerEnd)]));

  // Checksums made to match, so the shape check itself is what refuses it.
  const { tensors, metadata } = decodeSafetensors(good, 'good');
  const w = tensors['decoder.weight'];
  tensors['decoder.weight'] = { shape: [...w.shape].reverse(), data: w.data };
  writeFileSync(at('wrong-shape.safetensors'), encodeSafetensors(tensors, metadata));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: [string, string[], RegExp][] = [
  ['info on a flipped bit in the data', ['info', 'bitflip.safetensors'], /^charlm: \S*bitflip\.safetensors fails the checksum of tensor "[^"]+": the file is damaged\.$/],
  ['sample a flipped bit in the data', ['sample', 'bitflip.safetensors', '--backend', 'cpu'], /fails the checksum of tensor "[^"]+": the file is damaged\.$/],
  ['info on a header that is not JSON', ['info', 'not-json.safetensors'], /not-json\.safetensors is not a checkpoint: its header is not valid JSON\.$/],
  ['info on an edited header', ['info', 'edited-header.safetensors'], /edited-header\.safetensors fails its header checksum: its metadata or shapes are damaged\.$/],
  [
    'sample a tensor of the wrong shape',
    ['sample', 'wrong-shape.safetensors', '--backend', 'cpu'],
    /wrong-shape\.safetensors is not a usable charlm checkpoint: tensor "decoder\.weight" has shape \[8, \d+\] where the model needs \[\d+, 8\]\.$/,
  ],
];

describe('a damaged checkpoint is refused by the real CLI with one sentence, a non-zero exit and no stack trace', () => {
  it.concurrent.each(cases)('%s', async (_, args, sentence) => {
    const r = await charlm(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(sentence);
  });
});
