import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Corpus } from '../../src/data/corpus.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { corpusDocuments, corpusIds, documentIds, documentVocabulary, keepMask, splitCorpusIds, textWithBreaks } from '../../src/data/documents.js';
import { DataError } from '../../src/data/errors.js';
import { splitIds } from '../../src/data/split.js';
import { CharVocab } from '../../src/data/vocab.js';

const text = (t: string): Corpus => ({ name: 'names', source: '/names.txt', text: t, bytes: Buffer.byteLength(t) });
const list = (a: ArrayLike<number>): number[] => Array.from(a);

describe('corpusDocuments', () => {
  it('line: every non-empty line, trimmed', () => {
    expect(corpusDocuments(text('Anna\n  Bo b \n\n\t\nCleo'), 'line')).toEqual(['Anna', 'Bo b', 'Cleo']);
  });

  it('blank-line: blocks between one or more blank (or whitespace-only) lines, inner line breaks kept', () => {
    const t = '\n\nFlour\nEggs  \n\nMilk\n  \n\t\n\nSalt\nSugar\n\n';
    expect(corpusDocuments(text(t), 'blank-line')).toEqual(['Flour\nEggs', 'Milk', 'Salt\nSugar']);
  });

  it('refuses a corpus with no documents, naming what is empty', () => {
    expect(() => corpusDocuments(text(' \n\t\n'), 'line')).toThrow('names holds no documents: every line is empty or only whitespace.');
    expect(() => corpusDocuments(text('\n \n'), 'blank-line')).toThrow(DataError);
  });

  describe('file', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'charlm-docs-'));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('takes each file of a folder as one document, even files with line breaks and blank lines', async () => {
      await writeFile(join(dir, 'a.txt'), 'Pancakes\n\nMix.\n');
      await writeFile(join(dir, 'b.txt'), '  \n');
      await writeFile(join(dir, 'c.txt'), 'Bread\nBake.');
      await writeFile(join(dir, 'd.txt'), '\nSoup');
      const corpus = await loadCorpus(dir);
      expect(corpusDocuments(corpus, 'file')).toEqual(['Pancakes\n\nMix.', 'Bread\nBake.', 'Soup']);
    });

    it('refuses a single file, naming the other modes', async () => {
      await writeFile(join(dir, 'one.txt'), 'Anna\nBob\n');
      const corpus = await loadCorpus(join(dir, 'one.txt'));
      expect(() => corpusDocuments(corpus, 'file')).toThrow(
        '--documents file takes one document per file of a folder, and one is not a folder (line or blank-line cut a single file).',
      );
    });
  });
});

describe('document ids', () => {
  it('are END doc END doc … END, END being the id after the characters, and never text', () => {
    const docs = ['ab', 'ba', 'c'];
    const vocab = documentVocabulary(docs);
    expect(vocab.symbols).toEqual(['a', 'b', 'c']);
    expect(vocab.endOfDocument).toBe(3);
    expect(vocab.size).toBe(4);
    expect(list(documentIds(docs, vocab))).toEqual([3, 0, 1, 3, 1, 0, 3, 2, 3]);
    expect(list(corpusIds(text('ab\nba\n\nc\n'), vocab, 'line'))).toEqual([3, 0, 1, 3, 1, 0, 3, 2, 3]);
  });

  it('read back as text with a line break for each END between documents', () => {
    const vocab = documentVocabulary(['ab', 'c']);
    expect(textWithBreaks(documentIds(['ab', 'c'], vocab).subarray(1), vocab)).toBe('ab\nc\n');
    const plain = CharVocab.fromText('ab');
    expect(textWithBreaks(plain.encode('ab'), plain)).toBe('ab');
  });

  it('leave a corpus without document mode exactly as before', () => {
    const vocab = CharVocab.fromText('ab\nc');
    expect(list(corpusIds(text('ab\nc'), vocab, null))).toEqual(list(vocab.encode('ab\nc')));
  });
});

describe('splitCorpusIds', () => {
  // END = 9; documents of 3 ids each: 1 + 10 × 4 = 41 ids.
  const END = 9;
  const ids = Int32Array.from({ length: 41 }, (_, i) => (i % 4 === 0 ? END : i % 4));

  it('moves each boundary forward to the next END, which ends one part and starts the next', () => {
    const { train, val, test } = splitCorpusIds(ids, { train: 50, val: 25, test: 25 }, END);
    // floor(41·0.5) = 20 is an END already; floor(41·0.75) = 30 moves to 32.
    expect(train.length).toBe(21);
    expect(list(val)).toEqual(list(ids.subarray(20, 33)));
    expect(list(test)).toEqual(list(ids.subarray(32)));
    for (const part of [train, val, test]) {
      expect(part[0]).toBe(END);
      expect(part[part.length - 1]).toBe(END);
    }
  });

  it('keeps 0% parts empty and a 100% train part whole', () => {
    const s = splitCorpusIds(ids, { train: 90, val: 10, test: 0 }, END);
    expect(s.test.length).toBe(0);
    expect(s.train.length + s.val.length).toBe(ids.length + 1);
    const all = splitCorpusIds(ids, { train: 100, val: 0, test: 0 }, END);
    expect([all.train.length, all.val.length, all.test.length]).toEqual([41, 0, 0]);
  });

  it('is splitIds without an END', () => {
    const percents = { train: 80, val: 15, test: 5 };
    expect(splitCorpusIds(ids, percents, null)).toEqual(splitIds(ids, percents));
  });
});

describe('keepMask', () => {
  it('is 0 where the input is END and 1 elsewhere', () => {
    expect(list(keepMask([3, 0, 1, 3, 2, 3], 3))).toEqual([0, 1, 1, 0, 1, 0]);
  });
});
