import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { fillTemplate, PAGE_LIMIT_BYTES, pageSizeRefusal } from '../../src/cli/export.js';
import { parameterCount } from '../../src/model/params.js';
import { zeroState } from '../../src/model/state.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const TINY = ['--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--backend', 'cpu', '--json'];

let dir: string;
let checkpoint: string;

beforeAll(async () => {
  ({ dir } = corpusFile(englishLike(3000)));
  const r = await charlm(['train', join(dir, 'corpus.txt'), ...TINY, '--steps', '10', '--eval-every', '5', '--out', join(dir, 'run')]);
  expect(r.code, r.stderr).toBe(0);
  checkpoint = join(dir, 'run', 'latest.safetensors');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file Python would load, holding one tensor and none of charlm's metadata. */
function foreignSafetensors(path: string): void {
  let header = JSON.stringify({ weight: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([size, Buffer.from(header), Buffer.from(new Float32Array([1, 2]).buffer)]));
}

/** Refused with one sentence on stderr, exit 1, and the output folder exactly as it was. */
async function expectRefusal(args: string[], folder: string, pattern: RegExp): Promise<void> {
  const before = readdirSync(folder).sort();
  const r = await charlm(['export', ...args]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/unexpected error/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(readdirSync(folder).sort()).toEqual(before);
}

describe('charlm export refuses what it cannot make a page of', () => {
  it('a truncated checkpoint: one sentence, no HTML file and no temp file left', async () => {
    const broken = join(dir, 'broken.safetensors');
    writeFileSync(broken, readFileSync(checkpoint).subarray(0, 2000));
    await expectRefusal([broken, '--html', join(dir, 'broken.html')], dir, /^charlm: .*broken\.safetensors/);
  });

  it('a foreign safetensors file, leaving an earlier page under the same name as it was', async () => {
    const foreign = join(dir, 'foreign.safetensors');
    foreignSafetensors(foreign);
    const page = join(dir, 'foreign.html');
    writeFileSync(page, 'an earlier page');
    await expectRefusal([foreign, '--html', page], dir, /^charlm: .*foreign\.safetensors/);
    expect(readFileSync(page, 'utf8')).toBe('an earlier page');
  });

  it('a tiktoken model: the page carries only the character vocabulary', async () => {
    const out = join(dir, 'tiktoken');
    const r = await charlm(['train', join(dir, 'corpus.txt'), ...TINY, '--steps', '2', '--eval-every', '1', '--tokenizer', 'tiktoken:gpt2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    await expectRefusal([join(out, 'latest.safetensors'), '--html', join(dir, 'tiktoken.html')], dir, /^charlm: .* uses the tiktoken:gpt2 tokenizer, and an exported page carries only the character vocabulary/);
  });

  it('a page in a folder that does not exist: one sentence, nothing written', async () => {
    await expectRefusal([checkpoint, '--html', join(dir, 'missing', 'page.html')], dir, /^charlm: Cannot write .*page\.html/);
  });

  it('no output named', async () => {
    const r = await charlm(['export', checkpoint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--html <file>, --js <folder>/);
  });

  it('a model whose page would pass 64 MB: one sentence pointing to --js, no page written', async () => {
    // The tiny run's checkpoint widened to 2 × 1040 LSTM units: 13 million parameters, 66 MB as base64.
    const small = decodeCheckpoint(readFileSync(checkpoint), checkpoint);
    const model = { ...small.model, hidden: 1040 };
    const n = parameterCount(model);
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, encodeCheckpoint({ ...small, model, params: new Float32Array(n), optimizer: { kind: 'sgd', step: 0, first: new Float32Array(n), second: null }, state: zeroState(model, small.batch) }));
    try {
      await expectRefusal([big, '--html', join(dir, 'big.html')], dir, /^charlm: .*big\.safetensors would make a page of 66\.\d MB, over the 64 MB an exported page may be; export it with --js/);
    } finally {
      rmSync(big);
    }
  });

  it('a page over the limit, in one sentence pointing to --js', () => {
    expect(pageSizeRefusal('big.safetensors', PAGE_LIMIT_BYTES)).toBeNull();
    expect(pageSizeRefusal('big.safetensors', PAGE_LIMIT_BYTES + 1024 * 1024)).toBe(
      'big.safetensors would make a page of 65.0 MB, over the 64 MB an exported page may be; export it with --js, which fetches its weights as binary.',
    );
  });
});

describe('charlm export writes', () => {
  it('--html: one page holding the weights, the sampler and gpu.js, and says how big it is', async () => {
    const page = join(dir, 'model.html');
    const r = await charlm(['export', checkpoint, '--html', page]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^wrote .*model\.html \((\d+ kB|\d+\.\d MB): weights .* as base64, sampler and gpu\.js .*\)\n$/);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<script type="application/octet-stream" id="charlm-weights">');
    expect(html).not.toMatch(/\{\{[A-Z_]+\}\}/);
    // Offline: nothing is fetched from elsewhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--js: the module and its weights file', async () => {
    const out = join(dir, 'web');
    const r = await charlm(['export', checkpoint, '--js', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['charlm-model.bin', 'charlm-model.js']);
    expect(readFileSync(join(out, 'charlm-model.js'), 'utf8')).toMatch(/export\s*\{[^}]*loadModel/);
  });

  it('fills each placeholder once, never one that an inserted value contains', () => {
    expect(fillTemplate('<{{A}}|{{B}}>', { A: '{{B}}', B: 'b' })).toBe('<{{B}}|b>');
    expect(() => fillTemplate('{{C}}', {})).toThrow(/\{\{C\}\}/);
  });
});
