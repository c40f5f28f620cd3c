import { createRequire } from 'node:module';
import { DataError } from './errors.js';
import { splitIds, type SplitPercents } from './split.js';
import { CharVocab } from './vocab.js';
import type { Vocabulary, VocabularyJSON } from './vocabulary.js';

type TiktokenModule = typeof import('tiktoken');
type Tiktoken = ReturnType<TiktokenModule['get_encoding']>;

/** The tiktoken encodings charlm offers; all ship inside the npm package, so nothing is downloaded. */
export const TIKTOKEN_ENCODINGS = ['gpt2', 'cl100k_base', 'o200k_base'] as const;
export type TiktokenEncodingName = (typeof TIKTOKEN_ENCODINGS)[number];

/** The BPE whose token count "perplexity per BPE token" divides by, unless told otherwise. */
export const DEFAULT_BPE_ENCODING: TiktokenEncodingName = 'cl100k_base';

export type TokenizerSpec = { readonly kind: 'char' } | { readonly kind: 'tiktoken'; readonly encoding: TiktokenEncodingName };

/** Parses `char` or `tiktoken:<encoding>` (the form of --tokenizer and --tokenizers). */
export function parseTokenizer(text: string): TokenizerSpec {
  if (text === 'char') return { kind: 'char' };
  const m = /^tiktoken:(.+)$/.exec(text);
  const encoding = m?.[1];
  if (encoding !== undefined && (TIKTOKEN_ENCODINGS as readonly string[]).includes(encoding)) {
    return { kind: 'tiktoken', encoding: encoding as TiktokenEncodingName };
  }
  throw new DataError(`The tokenizer must be char or tiktoken:<encoding> with encoding ${TIKTOKEN_ENCODINGS.join(', ')}, not ${JSON.stringify(text)}.`);
}

export function tokenizerName(spec: TokenizerSpec): string {
  return spec.kind === 'char' ? 'char' : `tiktoken:${spec.encoding}`;
}

// tiktoken's ESM entry fetches its .wasm through a bundler-style import; the CommonJS entry reads it from disk.
const require = createRequire(import.meta.url);
let tiktoken: TiktokenModule | null = null;

/** Runs `use` with an encoder and frees the encoder's wasm memory afterwards (it is not garbage collected). */
function withEncoding<T>(encoding: TiktokenEncodingName, use: (enc: Tiktoken) => T): T {
  tiktoken ??= require('tiktoken') as TiktokenModule;
  const enc = tiktoken.get_encoding(encoding);
  try {
    return use(enc);
  } finally {
    enc.free();
  }
}

/** Tokens of `text` under a tiktoken encoding; special-token text such as `<|endoftext|>` counts as ordinary text. */
export function bpeTokenCount(text: string, encoding: TiktokenEncodingName = DEFAULT_BPE_ENCODING): number {
  return withEncoding(encoding, (enc) => enc.encode_ordinary(text).length);
}

/**
 * Perplexity per BPE token: the total nats a model spent on `text` spread over
 * the tokens a BPE cuts it into, so a character model's number reads on the
 * scale token-level language models report.
 */
export function perBpeToken(totalNats: number, text: string, encoding: TiktokenEncodingName = DEFAULT_BPE_ENCODING): { bpeTokens: number; ppl: number } {
  const bpeTokens = bpeTokenCount(text, encoding);
  return { bpeTokens, ppl: Math.exp(totalNats / bpeTokens) };
}

/** How a token vocabulary is stored in checkpoint metadata. */
export interface TokenVocabJSON {
  type: 'tiktoken';
  encoding: TiktokenEncodingName;
  /** The tiktoken ids seen in the training split, ascending; a model id is an index here, and `ids.length` is the reserved id. */
  ids: number[];
  /** Mean UTF-8 bytes of the text the reserved id stood for when the vocabulary was built (for bits per byte). */
  unknownBytes: number;
}

/** Tokens outside the training split, all mapped to the reserved id. */
export interface UnseenTokens {
  /** Occurrences in the validation and test parts. */
  readonly tokens: number;
  /** Different tiktoken ids among them. */
  readonly distinct: number;
}

/** What the reserved id decodes to: U+FFFD, as a decoder shows bytes it cannot read. */
const UNKNOWN_BYTES = new TextEncoder().encode('\uFFFD');

/**
 * A tiktoken vocabulary compacted to the ids that occur in the training split:
 * a 100k-id output layer for a text that uses 10k of them would spend most of
 * the model on tokens it can never learn. Every id unseen in training maps to
 * one reserved id (the last), which decodes to U+FFFD.
 */
export class TokenVocab implements Vocabulary {
  readonly tokenizer: string;
  readonly endOfDocument: number | null = null;
  readonly size: number;
  /** The reserved id for tiktoken ids the training split does not have. */
  readonly unknownId: number;
  private readonly compact: Map<number, number>;
  private readonly bytes: Uint8Array[];
  private readonly decoder = new TextDecoder('utf-8');

  private constructor(
    readonly encoding: TiktokenEncodingName,
    private readonly ids: readonly number[],
    private readonly unknownBytes: number,
  ) {
    this.tokenizer = `tiktoken:${encoding}`;
    this.unknownId = ids.length;
    this.size = ids.length + 1;
    this.compact = new Map(ids.map((raw, id) => [raw, id]));
    // Kept per id so decoding and byte counts need no encoder (and no wasm memory) after construction.
    this.bytes = withEncoding(encoding, (enc) => ids.map((raw) => enc.decode_single_token_bytes(raw)));
  }

  /**
   * Builds the vocabulary from the training part of `text` as `splitIds` cuts
   * it by token position, and counts what the other parts hold that training
   * never shows.
   */
  static fromText(encoding: TiktokenEncodingName, text: string, percents: SplitPercents): { vocab: TokenVocab; unseen: UnseenTokens } {
    const raw = withEncoding(encoding, (enc) => Int32Array.from(enc.encode_ordinary(text)));
    if (raw.length === 0) throw new DataError('Cannot build a vocabulary from empty text.');
    const split = splitIds(raw, percents);
    const seen = new Set<number>(split.train);
    const ids = [...seen].sort((a, b) => a - b);
    const rest = raw.subarray(split.train.length);
    const unseenIds = new Set<number>();
    let unseenTokens = 0;
    for (const id of rest) {
      if (seen.has(id)) continue;
      unseenTokens += 1;
      unseenIds.add(id);
    }
    let unknownBytes = UNKNOWN_BYTES.length;
    if (unseenTokens > 0) {
      unknownBytes = withEncoding(encoding, (enc) => {
        let total = 0;
        for (const id of rest) if (!seen.has(id)) total += enc.decode_single_token_bytes(id).length;
        return total / unseenTokens;
      });
    }
    return { vocab: new TokenVocab(encoding, ids, unknownBytes), unseen: { tokens: unseenTokens, distinct: unseenIds.size } };
  }

  static fromJSON(value: unknown): TokenVocab {
    const v = value as Partial<Record<keyof TokenVocabJSON, unknown>> | null;
    if (typeof v !== 'object' || v === null || v.type !== 'tiktoken') throw new DataError('The stored vocabulary is not a tiktoken vocabulary.');
    if (typeof v.encoding !== 'string' || !(TIKTOKEN_ENCODINGS as readonly string[]).includes(v.encoding)) {
      throw new DataError(`The stored tiktoken vocabulary names an unknown encoding ${JSON.stringify(v.encoding)}.`);
    }
    const ids = v.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id, i) => Number.isSafeInteger(id) && id >= 0 && (i === 0 || id > ids[i - 1]))) {
      throw new DataError('The stored tiktoken vocabulary ids are not a non-empty ascending list of whole numbers.');
    }
    if (typeof v.unknownBytes !== 'number' || !(v.unknownBytes > 0)) throw new DataError('The stored tiktoken vocabulary has no byte size for its reserved id.');
    return new TokenVocab(v.encoding as TiktokenEncodingName, ids as number[], v.unknownBytes);
  }

  encode(text: string): Int32Array {
    const raw = withEncoding(this.encoding, (enc) => enc.encode_ordinary(text));
    const out = new Int32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = this.compact.get(raw[i]) ?? this.unknownId;
    return out;
  }

  /** Token bytes joined before decoding, so a character split across tokens comes out whole. */
  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]);
      parts.push(b);
      length += b.length;
    }
    const joined = new Uint8Array(length);
    let at = 0;
    for (const b of parts) {
      joined.set(b, at);
      at += b.length;
    }
    return this.decoder.decode(joined);
  }

  byteLength(id: number): number {
    return id === this.unknownId ? this.unknownBytes : this.tokenBytes(id).length;
  }

  toJSON(): TokenVocabJSON {
    return { type: 'tiktoken', encoding: this.encoding, ids: [...this.ids], unknownBytes: this.unknownBytes };
  }

  private tokenBytes(id: number): Uint8Array {
    if (id === this.unknownId) return UNKNOWN_BYTES;
    const b = Number.isInteger(id) ? this.bytes[id] : undefined;
    if (b === undefined) throw new DataError(`Token id ${id} is outside the vocabulary of ${this.size} tokens.`);
    return b;
  }
}

/** The vocabulary a tokenizer builds for a corpus; `unseen` only for token vocabularies. */
export function buildVocabulary(spec: TokenizerSpec, text: string, percents: SplitPercents): { vocab: Vocabulary; unseen: UnseenTokens | null } {
  if (spec.kind === 'char') return { vocab: CharVocab.fromText(text), unseen: null };
  return TokenVocab.fromText(spec.encoding, text, percents);
}

/** Rebuilds whichever vocabulary checkpoint metadata holds, by its `type`. */
export function vocabularyFromJSON(value: unknown): Vocabulary {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (type === 'tiktoken') return TokenVocab.fromJSON(value);
  return CharVocab.fromJSON(value);
}

export type { Vocabulary, VocabularyJSON };
