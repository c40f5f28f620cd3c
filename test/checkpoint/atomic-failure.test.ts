import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Injects an I/O error into the temp file's fsync, the last step before the rename.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open) };
});

const { writeFileAtomic } = await import('../../src/checkpoint/atomic.js');
const { CheckpointError } = await import('../../src/checkpoint/errors.js');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'charlm-atomic-fail-'));
});

afterEach(async () => {
  vi.mocked(fsp.open).mockReset();
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic when the disk fails mid-write', () => {
  it('keeps the old file intact and removes the temp file', async () => {
    const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    const target = join(dir, 'latest.safetensors');
    await writeFile(target, 'the previous checkpoint');
    let tempSeen = '';
    vi.mocked(fsp.open).mockImplementationOnce(async (path, flags, mode) => {
      const handle = await actual.open(path, flags, mode);
      tempSeen = String(path);
      handle.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      return handle;
    });
    const error = await writeFileAtomic(target, Buffer.from('half of a new checkpoint')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toBe(`Cannot write ${target}: EIO: i/o error, fsync.`);
    expect(tempSeen.startsWith(join(dir, '.latest.safetensors.'))).toBe(true);
    expect(tempSeen.endsWith('.tmp')).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('the previous checkpoint');
    expect(await readdir(dir)).toEqual(['latest.safetensors']);
  });
});
