import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/checkpoint/atomic.js';
import { CheckpointError } from '../../src/checkpoint/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'charlm-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates the file and leaves no temp file behind', async () => {
    const target = join(dir, 'latest.safetensors');
    await writeFileAtomic(target, Buffer.from('checkpoint bytes'));
    expect(await readFile(target, 'utf8')).toBe('checkpoint bytes');
    expect(await readdir(dir)).toEqual(['latest.safetensors']);
  });

  it('replaces an existing file whole', async () => {
    const target = join(dir, 'best.safetensors');
    await writeFile(target, 'old content that is longer than the new one');
    await writeFileAtomic(target, Buffer.from('new'));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['best.safetensors']);
  });

  it('writes a large buffer completely', async () => {
    const target = join(dir, 'big.bin');
    const data = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    await writeFileAtomic(target, data);
    expect((await readFile(target)).equals(data)).toBe(true);
  });

  it('refuses a missing folder with one sentence naming the file', async () => {
    const target = join(dir, 'no-such-run', 'latest.safetensors');
    const error = await writeFileAtomic(target, Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).message).toBe(`Cannot write ${target}: its folder does not exist.`);
    expect((error as CheckpointError).file).toBe(target);
  });

  it('cleans up its temp file when the final rename fails', async () => {
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'keep');
    const error = await writeFileAtomic(target, Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).message).toMatch(/^Cannot write .*taken: /);
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readFile(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('never shows a reader a partial file under the target name', async () => {
    const target = join(dir, 'latest.safetensors');
    const size = 4 * 1024 * 1024;
    const versions = [Buffer.alloc(size, 0x41), Buffer.alloc(size, 0x42)];
    await writeFileAtomic(target, versions[0]);
    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        const seen = await readFile(target);
        expect(seen.length).toBe(size);
        expect(seen.equals(versions[0]) || seen.equals(versions[1])).toBe(true);
        reads += 1;
      }
    })();
    for (let i = 1; i <= 20; i++) await writeFileAtomic(target, versions[i % 2]);
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['latest.safetensors']);
  });

  it('lets concurrent writers to one target each land a complete file', async () => {
    const target = join(dir, 'latest.safetensors');
    const payloads = Array.from({ length: 8 }, (_, i) => Buffer.alloc(256 * 1024, 0x30 + i));
    await Promise.all(payloads.map((p) => writeFileAtomic(target, p)));
    const final = await readFile(target);
    expect(payloads.some((p) => p.equals(final))).toBe(true);
    expect(await readdir(dir)).toEqual(['latest.safetensors']);
  });
});
