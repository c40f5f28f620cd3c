import { readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { isBundled, loadBundled } from './bundled.js';
import { DataError } from './errors.js';
import { decodeText, utf8Bytes } from './normalize.js';

export interface Corpus {
  /** Short name for displays and run folders: file name without extension, folder name, or bundled name. */
  name: string;
  /** Absolute path of the file or folder, or `package@version` for a bundled corpus. */
  source: string;
  /** Normalized text: no byte-order mark, LF line ends. */
  text: string;
  /** UTF-8 bytes of `text` (for bits per byte). */
  bytes: number;
  /**
   * For a folder: where each file's text starts in `text` (UTF-16 offsets, in
   * file order), so `--documents file` can tell the files apart again.
   */
  fileStarts?: readonly number[];
}

export interface LoadCorpusOptions {
  /** Folder a relative spec is resolved against; defaults to the process's working folder. */
  cwd?: string;
  /** Largest input accepted, in bytes; the ids of a corpus take 4 bytes per character in memory. */
  maxBytes?: number;
}

export const DEFAULT_MAX_CORPUS_BYTES = 256 * 1024 * 1024;

/**
 * Loads a corpus from a UTF-8 text file, a folder of text files, or the name of
 * a bundled corpus. A path always wins over a bundled name, so a user's file
 * called `moby-dick` is never shadowed.
 */
export async function loadCorpus(spec: string, opts: LoadCorpusOptions = {}): Promise<Corpus> {
  if (spec.trim() === '') {
    throw new DataError('No corpus given: pass a text file, a folder of text files, or a bundled corpus name.');
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CORPUS_BYTES;
  const path = resolve(opts.cwd ?? process.cwd(), spec);
  const info = await statOrUndefined(path, spec);
  if (info === undefined) {
    if (isBundled(spec)) {
      const { text, source } = loadBundled(spec);
      return { name: spec, source, text, bytes: utf8Bytes(text) };
    }
    throw new DataError(`No such file or folder: ${spec}.`);
  }
  if (info.isFile()) {
    const text = await readTextFile(path, spec, info.size, maxBytes);
    return { name: basename(path, extname(path)) || basename(path), source: path, text, bytes: utf8Bytes(text) };
  }
  if (info.isDirectory()) {
    const { text, fileStarts } = await readTextFolder(path, spec, maxBytes);
    return { name: basename(path), source: path, text, bytes: utf8Bytes(text), fileStarts };
  }
  throw new DataError(`${spec} is neither a regular file nor a folder.`);
}

async function readTextFile(path: string, label: string, size: number, maxBytes: number): Promise<string> {
  if (size > maxBytes) {
    throw new DataError(`${label} is ${size} bytes, more than the ${maxBytes}-byte limit for a corpus.`);
  }
  const text = decodeText(await readBytes(path, label), label);
  if (text.length === 0) {
    throw new DataError(`${label} is empty.`);
  }
  return text;
}

/**
 * Reads the regular files directly inside a folder, sorted by name in code
 * point order (the same on every machine, unlike a locale sort), joined with
 * "\n". Hidden files are skipped (.DS_Store and editor swap files are not
 * corpus text) and so are subfolders; empty files add nothing and are skipped,
 * but a folder with no text at all is refused.
 */
async function readTextFolder(path: string, label: string, maxBytes: number): Promise<{ text: string; fileStarts: number[] }> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch (cause) {
    throw readError(cause, label);
  }
  names = names.filter((n) => !n.startsWith('.')).sort(compareCodePoints);
  const parts: string[] = [];
  let total = 0;
  for (const fileName of names) {
    const filePath = join(path, fileName);
    const fileLabel = join(label, fileName);
    const info = await statOrUndefined(filePath, fileLabel);
    if (info === undefined || !info.isFile() || info.size === 0) continue;
    total += info.size;
    if (total > maxBytes) {
      throw new DataError(`The files in ${label} add up to more than the ${maxBytes}-byte limit for a corpus.`);
    }
    const text = decodeText(await readBytes(filePath, fileLabel), fileLabel);
    if (text.length > 0) parts.push(text);
  }
  if (parts.length === 0) {
    throw new DataError(`${label} contains no non-empty text files.`);
  }
  const fileStarts: number[] = [];
  let at = 0;
  for (const part of parts) {
    fileStarts.push(at);
    at += part.length + 1;
  }
  return { text: parts.join('\n'), fileStarts };
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

async function statOrUndefined(path: string, label: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT' || errorCode(cause) === 'ENOTDIR') return undefined;
    throw readError(cause, label);
  }
}

async function readBytes(path: string, label: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw readError(cause, label);
  }
}

function readError(cause: unknown, label: string): DataError {
  const code = errorCode(cause);
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code ?? String(cause);
  return new DataError(`Cannot read ${label}: ${reason}.`, { cause });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
