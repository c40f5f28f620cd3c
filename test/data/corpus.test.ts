import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/data/corpus.js';
import type { LoadCorpusOptions } from '../../src/data/corpus.js';
import { DataError } from '../../src/data/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'charlm-corpus-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function refusal(spec: string, opts: LoadCorpusOptions = { cwd: dir }): Promise<DataError> {
  const error: unknown = await loadCorpus(spec, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

describe('loadCorpus from a file', () => {
  it('reads UTF-8 text and reports name, absolute source and byte count', async () => {
    const path = await put('notes.txt', 'héllo\nwörld 😀\n');
    const corpus = await loadCorpus('notes.txt', { cwd: dir });
    expect(corpus).toEqual({ name: 'notes', source: path, text: 'héllo\nwörld 😀\n', bytes: 19 });
  });

  it('strips a byte-order mark and turns CRLF and lone CR into LF', async () => {
    await put('win.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('one\r\ntwo\rthree\r\n\r\nfour')]));
    const corpus = await loadCorpus(join(dir, 'win.txt'));
    expect(corpus.text).toBe('one\ntwo\nthree\n\nfour');
    expect(corpus.bytes).toBe(Buffer.byteLength(corpus.text));
  });

  it('keeps a byte-order mark that is not at the start, since it is then text', async () => {
    await put('mid.txt', 'a\uFEFFb');
    expect((await loadCorpus(join(dir, 'mid.txt'))).text).toBe('a\uFEFFb');
  });

  it('refuses a missing path with the exact message', async () => {
    expect((await refusal('nothing-here.txt')).message).toBe('No such file or folder: nothing-here.txt.');
  });

  it('refuses an empty file, and a file that holds only a byte-order mark', async () => {
    await put('empty.txt', '');
    await put('bom.txt', Buffer.from([0xef, 0xbb, 0xbf]));
    expect((await refusal('empty.txt')).message).toBe('empty.txt is empty.');
    expect((await refusal('bom.txt')).message).toBe('bom.txt is empty.');
  });

  it('refuses a file with NUL bytes as binary', async () => {
    await put('model.bin', Buffer.from([0x61, 0x62, 0x00, 0x63]));
    expect((await refusal('model.bin')).message).toMatch(/^model\.bin looks like a binary file/);
  });

  it('refuses invalid UTF-8 such as Latin-1 text', async () => {
    await put('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const error = await refusal('latin1.txt');
    expect(error.message).toBe('latin1.txt is not valid UTF-8 text; convert it to UTF-8 first.');
  });

  it('refuses a truncated multi-byte sequence at the end of the file', async () => {
    await put('cut.txt', Buffer.from([0x61, 0xf0, 0x9f, 0x98]));
    await refusal('cut.txt');
  });

  it('refuses a file over the size limit before reading it', async () => {
    await put('big.txt', 'x'.repeat(100));
    expect((await refusal('big.txt', { cwd: dir, maxBytes: 99 })).message).toMatch(/more than the 99-byte limit/);
  });

  it('refuses something that is neither a file nor a folder', async () => {
    expect((await refusal('/dev/null')).message).toBe('/dev/null is neither a regular file nor a folder.');
  });

  it('refuses an empty spec', async () => {
    await refusal('  ');
  });
});

describe('loadCorpus from a folder', () => {
  it('joins the regular files sorted by name with "\\n", skipping hidden files, subfolders and empty files', async () => {
    await put('b.txt', 'bee');
    await put('a.txt', 'ay\r\n');
    await put('10.txt', 'ten');
    await put('2.txt', '\uFEFFtwo');
    await put('B.txt', 'capital');
    await put('empty.txt', '');
    await put('.DS_Store', Buffer.from([0, 1, 2]));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'inner.txt'), 'inner');
    const corpus = await loadCorpus(dir);
    // Code point order: digits, then upper case, then lower case.
    expect(corpus.text).toBe('ten\ntwo\ncapital\nay\n\nbee');
    expect(corpus.source).toBe(dir);
    expect(corpus.bytes).toBe(Buffer.byteLength(corpus.text));
  });

  it('names the offending file when one is binary', async () => {
    await put('a.txt', 'fine');
    await put('b.dat', Buffer.from([1, 0, 2]));
    const error = await refusal(dir);
    expect(error.message).toBe(`${join(dir, 'b.dat')} looks like a binary file (it contains NUL bytes), not text.`);
  });

  it('refuses a folder with no text', async () => {
    await put('empty.txt', '');
    expect((await refusal(dir)).message).toBe(`${dir} contains no non-empty text files.`);
  });

  it('applies the size limit to the folder as a whole', async () => {
    await put('a.txt', 'x'.repeat(60));
    await put('b.txt', 'x'.repeat(60));
    expect((await refusal(dir, { cwd: dir, maxBytes: 100 })).message).toMatch(/add up to more than the 100-byte limit/);
  });
});

describe('loadCorpus name resolution', () => {
  it('prefers a path to a bundled corpus of the same name', async () => {
    await put('moby-dick', 'my own whale');
    const corpus = await loadCorpus('moby-dick', { cwd: dir });
    expect(corpus.text).toBe('my own whale');
    expect(corpus.source).toBe(join(dir, 'moby-dick'));
  });
});
