import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { DEFAULT_SAMPLE_SEED, MAX_SEED } from '../api/model.js';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import { CharVocab } from '../data/vocab.js';
import { MODEL_ELEMENT, MODULE_FILE, WEIGHTS_ELEMENT, WEIGHTS_FILE, type EmbeddedModel } from '../web/embedded.js';
import { loadForUse, type LoadedCheckpoint } from './checkpoint-model.js';
import { ExportError } from './errors.js';
import { bundleBrowser, webFile } from './export-bundle.js';

/**
 * The largest page `export --html` writes. The weights travel as base64 (4/3
 * of their bytes) and are decoded into a second copy in the tab, so a 64 MB
 * page already asks a browser for ~110 MB before gpu.js uploads anything;
 * a model that large (some 12 million parameters) belongs in `--js`, whose
 * weights file is fetched as binary.
 */
export const PAGE_LIMIT_BYTES = 64 * 1024 * 1024;

const MB = (bytes: number): string => (bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

/** The model description the page and the module carry beside the weights; a tiktoken model is refused. */
export function embeddedModel(c: LoadedCheckpoint): EmbeddedModel {
  if (!(c.vocab instanceof CharVocab)) {
    throw new ExportError(`${c.path} uses the ${c.vocab.tokenizer} tokenizer, and an exported page carries only the character vocabulary, not tiktoken's encoder.`);
  }
  return {
    // The run folder too: every run's checkpoint is called latest or best.
    name: `${basename(dirname(resolve(c.path)))}/${basename(c.path)}`,
    model: c.contents.model,
    vocab: c.vocab.toJSON(),
    documents: c.training.documents,
    step: c.progress.step,
    seed: { default: DEFAULT_SAMPLE_SEED, max: MAX_SEED },
  };
}

/** A refusal when a page of `pageBytes` would pass the limit, else null. */
export function pageSizeRefusal(path: string, pageBytes: number): string | null {
  if (pageBytes <= PAGE_LIMIT_BYTES) return null;
  return `${path} would make a page of ${MB(pageBytes)}, over the ${PAGE_LIMIT_BYTES / 1024 / 1024} MB an exported page may be; export it with --js, which fetches its weights as binary.`;
}

const weightBytes = (params: Float32Array): Buffer => Buffer.from(params.buffer, params.byteOffset, params.byteLength);

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page with its placeholders filled in one pass, so nothing inserted is read as a placeholder. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`page.html has a placeholder ${whole} that export does not fill.`);
    return value;
  });
}

/** What was written and how big each part is, for the one line export prints. */
interface Written {
  readonly path: string;
  readonly bytes: number;
  readonly parts: string;
}

async function writePage(c: LoadedCheckpoint, embedded: EmbeddedModel, out: string): Promise<Written> {
  const params = c.contents.params;
  // Refused before building the base64 text, which for a model far over the limit is itself a lot of memory.
  const early = pageSizeRefusal(c.path, Math.ceil(params.byteLength / 3) * 4);
  if (early) throw new ExportError(early);
  const weights = weightBytes(params).toString('base64');
  const app = await bundleBrowser('page');
  const template = await readFile(webFile('page.html'), 'utf8');
  // JSON inside a <script> element: a "</script>" in a symbol or a name must not close it.
  const json = JSON.stringify(embedded).replace(/</g, '\\u003c');
  const page = Buffer.from(fillTemplate(template, { TITLE: escapeHtml(embedded.name), MODEL_ID: MODEL_ELEMENT, MODEL_JSON: json, WEIGHTS_ID: WEIGHTS_ELEMENT, WEIGHTS: weights, APP: app }));
  const refusal = pageSizeRefusal(c.path, page.length);
  if (refusal) throw new ExportError(refusal);
  await writeFileAtomic(out, page);
  return { path: out, bytes: page.length, parts: `weights ${MB(weights.length)} as base64, sampler and gpu.js ${MB(app.length)}` };
}

async function writeModule(c: LoadedCheckpoint, embedded: EmbeddedModel, dir: string): Promise<Written[]> {
  await mkdir(dir, { recursive: true });
  const code = Buffer.from(await bundleBrowser('module', embedded));
  const weights = weightBytes(c.contents.params);
  const module = join(dir, MODULE_FILE);
  const bin = join(dir, WEIGHTS_FILE);
  // The weights first: a module is never left pointing at weights that are not there yet.
  await writeFileAtomic(bin, weights);
  await writeFileAtomic(module, code);
  return [
    { path: module, bytes: code.length, parts: 'sampler, gpu.js and the model description' },
    { path: bin, bytes: weights.length, parts: `${c.contents.params.length.toLocaleString('en-US')} float32 weights` },
  ];
}

export function exportCommand(y: Argv): Argv {
  return y.command(
    'export <checkpoint>',
    'Write a web page (--html) or an ES module (--js) that samples the model in a browser on gpu.js',
    (a) =>
      a
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .option('html', { type: 'string', describe: 'one self-contained page: open it from disk, no server needed' })
        .option('js', { type: 'string', describe: `a folder for ${MODULE_FILE} (import { loadModel } from it) and ${WEIGHTS_FILE}` })
        .requiresArg(['html', 'js'])
        .check((v) => {
          if (v.html === undefined && v.js === undefined) throw new Error('Name what to write: --html <file>, --js <folder>, or both.');
          return true;
        }),
    async (v) => {
      const c = await loadForUse(v.checkpoint);
      const embedded = embeddedModel(c);
      const written: Written[] = [];
      if (v.html !== undefined) written.push(await writePage(c, embedded, v.html));
      if (v.js !== undefined) written.push(...(await writeModule(c, embedded, v.js)));
      for (const w of written) process.stdout.write(`wrote ${w.path} (${MB(w.bytes)}: ${w.parts})\n`);
    },
  );
}
