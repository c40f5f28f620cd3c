import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/compute/backend.js';
import { splitIds } from '../../src/data/split.js';
import { bpeTokenCount, parseTokenizer, perBpeToken, TokenVocab, vocabularyFromJSON } from '../../src/data/tokenizer.js';
import { CharVocab } from '../../src/data/vocab.js';
import type { Vocabulary } from '../../src/data/vocabulary.js';
import { Network } from '../../src/model/network.js';
import { paramLayout } from '../../src/model/params.js';
import { evaluate } from '../../src/train/evaluate.js';

const ALL_TRAIN = { train: 100, val: 0, test: 0 };

/** tiktoken itself, for the hand computations the vocabulary is checked against. */
function rawIds(encoding: 'gpt2', text: string): number[] {
  const tiktoken = createRequire(import.meta.url)('tiktoken') as typeof import('tiktoken');
  const enc = tiktoken.get_encoding(encoding);
  try {
    return [...enc.encode_ordinary(text)];
  } finally {
    enc.free();
  }
}

describe('parseTokenizer', () => {
  it('takes char and the three tiktoken encodings, and refuses anything else in one sentence', () => {
    expect(parseTokenizer('char')).toEqual({ kind: 'char' });
    for (const e of ['gpt2', 'cl100k_base', 'o200k_base']) expect(parseTokenizer(`tiktoken:${e}`)).toEqual({ kind: 'tiktoken', encoding: e });
    expect(() => parseTokenizer('tiktoken:p50k_base')).toThrow(/must be char or tiktoken:<encoding>/);
    expect(() => parseTokenizer('bpe')).toThrow(/not "bpe"/);
  });
});

describe('TokenVocab', () => {
  const text = 'the cat sat on the mat. the cat sat.\nthe dog ran — café!\n';

  it('compacts to the ids of the train split, with one reserved id for the rest, and counts what maps to it', () => {
    const percents = { train: 50, val: 50, test: 0 };
    const { vocab, unseen } = TokenVocab.fromText('gpt2', text, percents);
    const raw = Int32Array.from(rawIds('gpt2', text));
    const train = splitIds(raw, percents).train;
    const trainIds = new Set(train);
    expect(vocab.size).toBe(trainIds.size + 1);
    const rest = [...raw.subarray(train.length)];
    expect(unseen.tokens).toBe(rest.filter((id) => !trainIds.has(id)).length);
    expect(unseen.distinct).toBe(new Set(rest.filter((id) => !trainIds.has(id))).size);
    expect(unseen.tokens).toBeGreaterThan(0);
    const ids = vocab.encode(text);
    expect(ids.length).toBe(raw.length);
    expect([...ids.subarray(0, train.length)].every((id) => id < vocab.unknownId)).toBe(true);
    expect([...ids].filter((id) => id === vocab.unknownId).length).toBe(unseen.tokens);
    expect(vocab.decode(vocab.encode('the cat sat'))).toBe('the cat sat');
    expect(vocab.decode([vocab.unknownId])).toBe('\uFFFD');
  });

  it('counts the UTF-8 bytes of every token, so the bytes of a text add up exactly', () => {
    const { vocab, unseen } = TokenVocab.fromText('cl100k_base', text, ALL_TRAIN);
    expect(unseen.tokens).toBe(0);
    const ids = vocab.encode(text);
    expect([...ids].reduce((a, id) => a + vocab.byteLength(id), 0)).toBe(Buffer.byteLength(text));
    expect(vocab.decode(ids)).toBe(text);
  });

  it('round-trips through checkpoint JSON, and the JSON is dispatched on its type', () => {
    const { vocab } = TokenVocab.fromText('o200k_base', text, { train: 60, val: 40, test: 0 });
    const back = vocabularyFromJSON(JSON.parse(JSON.stringify(vocab.toJSON())));
    expect(back).toBeInstanceOf(TokenVocab);
    expect(back.tokenizer).toBe('tiktoken:o200k_base');
    expect([...back.encode(text)]).toEqual([...vocab.encode(text)]);
    expect(back.byteLength((back as TokenVocab).unknownId)).toBe(vocab.byteLength(vocab.unknownId));
    const chars = vocabularyFromJSON(CharVocab.fromText(text).toJSON());
    expect(chars).toBeInstanceOf(CharVocab);
    expect(() => vocabularyFromJSON({ type: 'tiktoken', encoding: 'nope', ids: [1], unknownBytes: 3 })).toThrow(/unknown encoding/);
    expect(() => vocabularyFromJSON({ type: 'tiktoken', encoding: 'gpt2', ids: [3, 2], unknownBytes: 3 })).toThrow(/ascending/);
  });

  it('treats special-token text as ordinary text rather than refusing the corpus', () => {
    expect(bpeTokenCount('a <|endoftext|> b', 'gpt2')).toBeGreaterThan(3);
  });
});

describe('bits per byte', () => {
  // Multi-byte characters, so bits per character and bits per byte differ.
  const text = 'naïve café — déjà vu, señor.\nnaïve café!\n';

  /** A model whose weights are all zero predicts the uniform distribution: exactly ln V nats per scored id. */
  async function uniformEval(vocab: Vocabulary) {
    const compute = await selectBackend('cpu');
    const ids = vocab.encode(text);
    const model = { cell: 'gru' as const, vocabSize: vocab.size, embed: 4, hidden: 4, layers: 1, dropout: 0 };
    const network = new Network(compute.runner, model, 2, 8);
    const r = await evaluate(network, new Float32Array(paramLayout(model).total), ids, (id) => vocab.byteLength(id));
    compute.runner.destroy();
    return { r, ids };
  }

  it('matches a hand computation for a character vocabulary', async () => {
    const vocab = CharVocab.fromText(text);
    const { r } = await uniformEval(vocab);
    const chars = [...text];
    // Every character but the first is scored; the bytes are those of the scored characters.
    const scoredBytes = Buffer.byteLength(chars.slice(1).join(''));
    expect(r.tokens).toBe(chars.length - 1);
    expect(r.bpc).toBeCloseTo(Math.log2(vocab.size), 5);
    expect(r.bitsPerByte).toBeCloseTo(((chars.length - 1) * Math.log2(vocab.size)) / scoredBytes, 5);
    expect(r.bitsPerByte).toBeLessThan(r.bpc);
  });

  it('matches a hand computation for a tiktoken vocabulary, on the same byte scale', async () => {
    const { vocab } = TokenVocab.fromText('gpt2', text, ALL_TRAIN);
    const { r, ids } = await uniformEval(vocab);
    const tokens = ids.length;
    const scoredBytes = Buffer.byteLength(text) - vocab.byteLength(ids[0]);
    expect(r.tokens).toBe(tokens - 1);
    expect(r.bitsPerByte).toBeCloseTo(((tokens - 1) * Math.log2(vocab.size)) / scoredBytes, 5);
  });

  it('perplexity per BPE token spreads the same nats over the BPE token count', () => {
    const n = bpeTokenCount(text);
    const { ppl, bpeTokens } = perBpeToken(10 * n, text);
    expect(bpeTokens).toBe(n);
    expect(ppl).toBeCloseTo(Math.exp(10), 6);
  });
});
