import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printSamples, type Decoding } from '../../src/cli/sample-print.js';
import { selectBackend, type Compute } from '../../src/compute/backend.js';
import { DataError } from '../../src/data/errors.js';
import type { Vocabulary } from '../../src/data/vocabulary.js';
import { DOCUMENT_CAP, SampleSession, type SessionSettings } from '../../src/sample/session.js';
import { favouring, rescore, tinyModel } from './tiny-model.js';

/**
 * A vocabulary of document mode built by hand, as a model trained with
 * --documents line has it: four characters and END (id 4), which is no text.
 */
class DocumentVocab implements Vocabulary {
  readonly tokenizer = 'char';
  readonly symbols = ['a', 'b', 'c', ' '];
  readonly endOfDocument = 4;
  readonly size = 5;
  encode(text: string): Int32Array {
    return Int32Array.from([...text], (ch) => {
      const id = this.symbols.indexOf(ch);
      if (id < 0) throw new DataError(`The character ${JSON.stringify(ch)} is not in the vocabulary.`);
      return id;
    });
  }
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => (id === this.endOfDocument ? '' : this.symbols[id])).join('');
  }
  byteLength(): number {
    return 1;
  }
  toJSON(): never {
    throw new Error('not stored');
  }
}

const vocab = new DocumentVocab();
const { config, params: plain } = tinyModel(11, vocab.size);
/** END likely enough that documents are a few symbols long. */
const params = favouring(config, plain, vocab.endOfDocument, 0.5);
const SAMPLE: Decoding = { kind: 'sample', options: { temperature: 1, topK: 0, topP: 1 } };

let compute: Compute;
beforeAll(async () => {
  compute = await selectBackend('cpu');
});
afterAll(() => compute.runner.destroy());

function session(settings: Partial<SessionSettings>, p = params): SampleSession {
  return new SampleSession(compute.runner, config, p, vocab, { prime: new Int32Array(0), length: null, stops: [], noRepeatNgram: 0, ...settings });
}

/** As `charlm sample` prints them: a model trained with --documents line gets one document per line. */
async function print(s: SampleSession, count: number, json: boolean, decoding: Decoding = SAMPLE, prime = ''): Promise<{ out: string; notes: string[] }> {
  let out = '';
  const notes: string[] = [];
  const request = { count, decoding, seed: 3, prime, json, blankLineBetween: !s.documents, settings: {} };
  await printSamples(s, request, { write: (t) => (out += t), note: (t) => notes.push(t) });
  return { out, notes };
}

const jsonLines = (out: string) => out.trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; text: string; length: number; logProb: number; ending: string });

describe('document mode (a vocabulary with END)', () => {
  it('prints --count 20 documents one per line, each ended by END', async () => {
    const { out, notes } = await print(session({}), 20, false);
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(20);
    // Different documents, not one repeated: each sample continues the random stream.
    expect(new Set(lines).size).toBeGreaterThan(5);
    expect(notes).toEqual([]);
    const json = jsonLines((await print(session({}), 20, true)).out);
    expect(json.map((j) => j.index)).toEqual([...Array(20).keys()]);
    expect(json.every((j) => j.ending === 'document')).toBe(true);
    // The same seed gives the same documents in both forms.
    expect(json.map((j) => j.text)).toEqual(lines);
  });

  it('starts each document by reading END from a zero state, and counts the END drawn in the log-likelihood', async () => {
    const prime = vocab.encode('ab');
    const [first] = jsonLines((await print(session({ prime }), 1, true, SAMPLE, 'ab')).out);
    const ids = [...vocab.encode(first.text), vocab.endOfDocument];
    expect(first.length).toBe(ids.length);
    expect(first.logProb).toBeCloseTo(await rescore(compute.runner, config, params, [vocab.endOfDocument, ...prime], ids), 4);
    // Read without the END first, the same text is scored differently: the END really is read.
    expect(first.logProb).not.toBeCloseTo(await rescore(compute.runner, config, params, prime, ids), 4);
  });

  it('with --length runs on across documents for exactly that many symbols, a newline at each END, each END read from a zero state', async () => {
    const END = vocab.endOfDocument;
    /** The ids of a text of this vocabulary, which has no newline of its own: each newline is an END. */
    const idsOf = (text: string): number[] => [...text].map((ch) => (ch === '\n' ? END : vocab.encode(ch)[0]));
    for (const decoding of [SAMPLE, { kind: 'beam', width: 3 }] as Decoding[]) {
      const [s] = jsonLines((await print(session({ length: 200 }), 1, true, decoding)).out);
      expect(s.length).toBe(200);
      expect(s.ending).toBe('length');
      expect([...s.text]).toHaveLength(200);
      expect(s.text).toContain('\n');
      const ids = idsOf(s.text);
      expect(s.logProb).toBeCloseTo(await rescore(compute.runner, config, params, [END], ids, END), 4);
      // Carrying the state across an END instead scores the text otherwise: the reset really happens.
      expect(s.logProb).not.toBeCloseTo(await rescore(compute.runner, config, params, [END], ids), 2);
    }
  });

  it(`cuts a document the model never ends at ${DOCUMENT_CAP} symbols and says so`, async () => {
    const never = favouring(config, plain, vocab.endOfDocument, -50);
    const { out, notes } = await print(session({}, never), 1, true);
    const [s] = jsonLines(out);
    expect(s).toMatchObject({ length: DOCUMENT_CAP, ending: 'cap' });
    expect(notes).toEqual([`sample 1 reached ${DOCUMENT_CAP.toLocaleString('en-US')} symbols without the model ending its document; it was cut there.`]);
  });

  it('beam search decodes one document, ending at END', async () => {
    const [s] = jsonLines((await print(session({}), 1, true, { kind: 'beam', width: 3 })).out);
    expect(s.ending).toBe('document');
    expect(s.length).toBe([...s.text].length + 1);
  });
});

describe('samples without documents', () => {
  const noDocs: Vocabulary = Object.assign(Object.create(vocab) as Vocabulary, { endOfDocument: null });
  const flat = (settings: Partial<SessionSettings>) =>
    new SampleSession(compute.runner, config, plain, noDocs, { prime: new Int32Array(0), length: 30, stops: [], noRepeatNgram: 0, ...settings });

  it('are separated by a blank line; the first is the one --count 1 gives', async () => {
    const three = (await print(flat({}), 3, false, SAMPLE, 'ab')).out;
    const one = (await print(flat({}), 1, false, SAMPLE, 'ab')).out;
    const parts = three.split('\n\n');
    expect(parts).toHaveLength(3);
    expect(`${parts[0]}\n`).toBe(one);
    for (const p of parts) expect(p.startsWith('ab')).toBe(true);
  });

  it('end at a stop sequence in every decoding, printing none of it', async () => {
    for (const decoding of [SAMPLE, { kind: 'sample', options: { temperature: 0, topK: 0, topP: 1 } }, { kind: 'beam', width: 3 }] as Decoding[]) {
      const free = jsonLines((await print(flat({ length: 60 }), 1, true, decoding)).out)[0].text;
      // Stop at the first two characters that follow the first character: a match that cannot be at the start.
      const stop = free.slice(1, 3);
      const [s] = jsonLines((await print(flat({ length: 60, stops: [stop] }), 1, true, decoding)).out);
      expect(s.ending).toBe('stop');
      expect(s.text).not.toContain(stop);
      if (decoding.kind === 'sample') expect(s.text).toBe(free.slice(0, free.indexOf(stop)));
    }
  });
});
