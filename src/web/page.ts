/// <reference lib="dom" />
// The exported page's script: reads the model embedded in the page, samples it
// with the project's own SampleSession on gpu.js's browser build, and streams
// the text into the page.
import { DEFAULT_SAMPLE_LENGTH } from '../sample/session.js';
import { DEFAULT_SAMPLING } from '../sample/strategy.js';
import { openBrowserBackend, type BrowserRequest } from './backend.js';
import { BrowserModel, type GenerateRequest } from './browser-model.js';
import { decodeWeights, MODEL_ELEMENT, WEIGHTS_ELEMENT, type EmbeddedModel } from './embedded.js';

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`The page has no ${type.name} #${id}.`);
  return e;
}

const embedded = JSON.parse(element(MODEL_ELEMENT, HTMLScriptElement).textContent ?? '') as EmbeddedModel;
const params = decodeWeights(element(WEIGHTS_ELEMENT, HTMLScriptElement).textContent ?? '');

const ui = {
  about: element('about', HTMLParagraphElement),
  prime: element('prime', HTMLTextAreaElement),
  temperature: element('temperature', HTMLInputElement),
  topK: element('top-k', HTMLInputElement),
  topP: element('top-p', HTMLInputElement),
  seed: element('seed', HTMLInputElement),
  length: element('length', HTMLInputElement),
  backend: element('backend', HTMLSelectElement),
  generate: element('generate', HTMLButtonElement),
  documents: element('documents', HTMLSpanElement),
  generateN: element('generate-n', HTMLButtonElement),
  count: element('count', HTMLInputElement),
  status: element('status', HTMLDivElement),
  output: element('output', HTMLDivElement),
};

const m = embedded.model;
const documents = embedded.documents !== null;
const trainedOn = documents ? `, on documents (--documents ${embedded.documents})` : '';
ui.about.textContent = `${m.cell.toUpperCase()} ${m.layers}×${m.hidden}, ${params.length.toLocaleString('en-US')} parameters, ${m.vocabSize} symbols, trained ${embedded.step.toLocaleString('en-US')} steps${trainedOn} · sampled in this page by charlm's own sampler on gpu.js`;
ui.temperature.value = String(DEFAULT_SAMPLING.temperature);
ui.topK.value = String(DEFAULT_SAMPLING.topK);
ui.topP.value = String(DEFAULT_SAMPLING.topP);
ui.seed.value = String(embedded.seed.default);
ui.seed.max = String(embedded.seed.max);
// A document model's sample is one document, as `charlm sample` without --length gives it.
if (documents) ui.length.placeholder = 'one document';
else ui.length.value = String(DEFAULT_SAMPLE_LENGTH);
ui.documents.hidden = !documents;
if (documents) ui.generate.textContent = 'Generate one';
ui.generateN.textContent = 'Generate N';

/** One model per backend asked for: the weights stay uploaded and the kernels compiled between presses. */
const models = new Map<BrowserRequest, Promise<BrowserModel>>();
function modelFor(request: BrowserRequest): Promise<BrowserModel> {
  let model = models.get(request);
  if (!model) {
    model = openBrowserBackend(request).then((compute) => new BrowserModel(embedded, params, compute));
    models.set(request, model);
    model.catch(() => models.delete(request));
  }
  return model;
}

function status(state: 'running' | 'done' | 'error', text: string, backend = ''): void {
  ui.status.dataset.state = state;
  ui.status.dataset.backend = backend;
  ui.status.textContent = text;
}

/** The form's settings, or a sentence naming the first field that is not a valid value. */
function readRequest(count: number): GenerateRequest | string {
  const fields = [ui.temperature, ui.topK, ui.topP, ui.seed, ui.length, ui.count];
  const bad = fields.find((f) => !f.checkValidity());
  if (bad) return `${bad.labels?.[0]?.firstChild?.textContent ?? bad.id}: ${bad.validationMessage}`;
  return {
    prime: ui.prime.value,
    length: ui.length.value === '' ? null : Number(ui.length.value),
    sampling: { temperature: Number(ui.temperature.value), topK: Number(ui.topK.value), topP: Number(ui.topP.value) },
    seed: Number(ui.seed.value),
    count,
  };
}

async function generate(count: number): Promise<void> {
  const request = readRequest(count);
  if (typeof request === 'string') return status('error', request);
  const asked = ui.backend.value as BrowserRequest;
  for (const b of [ui.generate, ui.generateN]) b.disabled = true;
  ui.output.replaceChildren();
  status('running', `Starting ${asked === 'auto' ? 'the first gpu.js backend that works' : asked}…`);
  try {
    const model = await modelFor(asked);
    status('running', `Generating on ${model.mode}…`, model.mode);
    const samples: HTMLDivElement[] = [];
    const result = await model.generate(request, (piece, index) => {
      samples[index] ??= ui.output.appendChild(Object.assign(document.createElement('div'), { className: 'sample' }));
      samples[index].append(piece);
    });
    const rate = Math.round(result.symbols / Math.max(result.seconds, 1e-3));
    const notes = [
      ...(result.dropped.length > 0 ? [`left out of the prime, not in the vocabulary: ${result.dropped.map((s) => JSON.stringify(s)).join(' ')}`] : []),
      ...(model.passedOver.length > 0 ? [`passed over ${model.passedOver.join('; ')}`] : []),
      ...model.fallbacks.map((f) => `fallback: ${f}`),
    ];
    status('done', [`${result.symbols} symbols in ${result.seconds.toFixed(2)} s · ${rate.toLocaleString('en-US')} chars/s · gpu.js backend: ${model.mode}`, ...notes].join(' · '), model.mode);
  } catch (e) {
    status('error', e instanceof Error ? e.message : String(e));
  } finally {
    for (const b of [ui.generate, ui.generateN]) b.disabled = false;
  }
}

ui.generate.addEventListener('click', () => void generate(1));
ui.generateN.addEventListener('click', () => void generate(Number(ui.count.value)));
