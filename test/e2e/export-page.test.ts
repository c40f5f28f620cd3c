import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chromium, CHROMIUM, haveChromium } from '../support/chromium.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const SCREENSHOT = new URL('./screenshots/export-page.png', import.meta.url);
// Small enough to train in a few seconds, trained enough that the screenshot shows words.
const TINY = ['--hidden', '32', '--embed', '8', '--batch', '8', '--seq', '32', '--lr', '0.01', '--steps', '200', '--eval-every', '100', '--backend', 'cpu', '--json'];
const SETTINGS = { prime: 'The ', seed: 7, length: 240, temperature: 0.9, topK: 12, topP: 0.95 };
const SAMPLE_FLAGS = ['--prime', SETTINGS.prime, '--seed', String(SETTINGS.seed), '--length', String(SETTINGS.length), '--temperature', String(SETTINGS.temperature), '--top-k', String(SETTINGS.topK), '--top-p', String(SETTINGS.topP)];

if (!haveChromium) console.warn(`export-page: skipped, ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it).`);

let dir: string;
let checkpoint: string;
let browser: Chromium;

async function train(corpus: string, out: string, extra: string[] = []): Promise<string> {
  const r = await charlm(['train', corpus, ...TINY, ...extra, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return join(out, 'latest.safetensors');
}

async function exportModel(...args: string[]): Promise<void> {
  const r = await charlm(['export', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** `charlm sample` on the cpu reference backend, as it prints: the prime, the text, a newline. */
async function cliSample(ckpt: string, ...args: string[]): Promise<string> {
  const r = await charlm(['sample', ckpt, '--backend', 'cpu', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Fills the page's form as a person would, presses `button`, and waits for the status line to say it is done. */
async function generate(session: string, fields: Record<string, string>, button: string): Promise<{ texts: string[]; status: string; backend: string }> {
  const set = Object.entries(fields)
    .map(([id, value]) => `document.getElementById(${JSON.stringify(id)}).value = ${JSON.stringify(value)};`)
    .join(' ');
  await browser.evaluate(session, `(() => { ${set} document.getElementById(${JSON.stringify(button)}).click(); })()`);
  await browser.until(session, "['done', 'error'].includes(document.getElementById('status').dataset.state)", 90_000);
  return browser.evaluate(
    session,
    `(() => { const s = document.getElementById('status'); return { texts: [...document.querySelectorAll('#output .sample')].map((e) => e.textContent), status: s.textContent, backend: s.dataset.backend }; })()`,
  );
}

const pageFields = (backend: string): Record<string, string> => ({
  prime: SETTINGS.prime,
  seed: String(SETTINGS.seed),
  length: String(SETTINGS.length),
  temperature: String(SETTINGS.temperature),
  'top-k': String(SETTINGS.topK),
  'top-p': String(SETTINGS.topP),
  backend,
});

describe.skipIf(!haveChromium)('charlm export in headless Chromium', () => {
  beforeAll(async () => {
    ({ dir } = corpusFile(englishLike(5000)));
    checkpoint = await train(join(dir, 'corpus.txt'), join(dir, 'run'));
    browser = new Chromium();
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--html: the page opened from disk samples the text charlm sample prints, on cpu, webgpu, webgl2 and what auto picks', async () => {
    const page = join(dir, 'model.html');
    await exportModel(checkpoint, '--html', page);
    const expected = await cliSample(checkpoint, ...SAMPLE_FLAGS);
    const session = await browser.open(pathToFileURL(page).href);

    const cpu = await generate(session, pageFields('cpu'), 'generate');
    expect(cpu.status).toMatch(/gpu\.js backend: cpu/);
    expect(cpu.backend).toBe('cpu');
    expect(`${cpu.texts.join('')}\n`).toBe(expected);

    // webgpu and webgl2 on SwiftShader: their float32 logits may differ from the cpu reference in the last bits,
    // which would change a draw only where a uniform number falls that close to a boundary between two symbols;
    // on this model and these settings every draw is the same.
    for (const mode of ['webgpu', 'webgl2']) {
      const r = await generate(session, pageFields(mode), 'generate');
      expect(r.status).toContain(`gpu.js backend: ${mode}`);
      expect(`${r.texts.join('')}\n`, mode).toBe(expected);
    }

    // auto passes over a software WebGPU adapter or WebGL renderer, as the terminal's auto does, and says so.
    const auto = await generate(session, pageFields('auto'), 'generate');
    expect(auto.backend).toMatch(/^(webgpu|webgl2|webgl|cpu)$/);
    expect(auto.status).toContain(`gpu.js backend: ${auto.backend}`);
    expect(auto.status).toMatch(/[\d,]+ chars\/s/);
    if (auto.backend === 'cpu') expect(auto.status).toMatch(/passed over webgpu: software adapter.*webgl2: software renderer/);
    expect(`${auto.texts.join('')}\n`).toBe(expected);

    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, await browser.screenshot(session));
  });

  it('--html of a document model: "Generate N" gives one document per line, as charlm sample --count does', async () => {
    const names = 'Karilo Namisa Tolen Berta Vidora Marjo Elan Sato Rali Visen Doran Tamira Lenis Joma Anri'.split(' ');
    const corpus = join(dir, 'names.txt');
    writeFileSync(corpus, `${Array.from({ length: 300 }, (_, i) => names[(i * 7) % names.length]).join('\n')}\n`);
    const docs = await train(corpus, join(dir, 'names'), ['--documents', 'line']);
    const page = join(dir, 'names.html');
    await exportModel(docs, '--html', page);
    const expected = await cliSample(docs, '--count', '6', '--seed', '3');
    const session = await browser.open(pathToFileURL(page).href);
    const r = await generate(session, { seed: '3', count: '6', backend: 'cpu' }, 'generate-n');
    expect(r.texts).toHaveLength(6);
    expect(r.texts.map((t) => `${t}\n`).join('')).toBe(expected);
  });

  it('--js: a page that imports loadModel from the written module samples the same text', async () => {
    const out = join(dir, 'web');
    await exportModel(checkpoint, '--js', out);
    const { length, seed, temperature, topK, topP, prime } = SETTINGS;
    writeFileSync(
      join(out, 'index.html'),
      `<!doctype html><script type="module">
        import { loadModel } from './charlm-model.js';
        const model = await loadModel({ backend: 'cpu' });
        const r = await model.generate({ prime: ${JSON.stringify(prime)}, length: ${length}, seed: ${seed}, count: 1, sampling: { temperature: ${temperature}, topK: ${topK}, topP: ${topP} } }, () => {});
        window.sampled = { text: r.texts[0], mode: model.mode };
      </script>`,
    );
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.bin': 'application/octet-stream' };
    const server: Server = createServer((req, res) => {
      const file = join(out, new URL(req.url ?? '/', 'http://x').pathname);
      // The browser also asks for a favicon, which is not there.
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const session = await browser.open(`http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`);
      await browser.until(session, 'window.sampled', 60_000);
      const sampled = await browser.evaluate<{ text: string; mode: string }>(session, 'window.sampled');
      expect(sampled.mode).toBe('cpu');
      expect(`${sampled.text}\n`).toBe(await cliSample(checkpoint, ...SAMPLE_FLAGS));
    } finally {
      server.close();
    }
  });
});
