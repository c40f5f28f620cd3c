import { DataError } from './errors.js';

const NUL = 0x00;

/**
 * Turns the raw bytes of one text file into the text a model trains on.
 * `label` names the file in error messages.
 *
 * NUL is checked on the bytes before decoding because it is the cheapest
 * reliable sign of a binary file, and such files can still be valid UTF-8.
 */
export function decodeText(bytes: Uint8Array, label: string): string {
  if (bytes.includes(NUL)) {
    throw new DataError(`${label} looks like a binary file (it contains NUL bytes), not text.`);
  }
  let text: string;
  try {
    // fatal: a lossy decode would silently train the model on U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new DataError(`${label} is not valid UTF-8 text; convert it to UTF-8 first.`, { cause });
  }
  return normalizeText(text);
}

/** Drops a leading byte-order mark and makes every line end a single LF. */
export function normalizeText(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // CRLF first so it becomes one LF, then lone CR (classic Mac files).
  return withoutBom.replace(/\r\n?/g, '\n');
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
