import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, evaluate, loadModel, train, type DoneEvent, type Model, type TrainEvent } from '../../src/index.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

// The library is what the commands call; these check it gives what the commands give, on one small corpus.
const SMALL = { hidden: 24, layers: 1, embed: 16, batch: 8, seq: 16, backend: 'cpu', sampleEvery: 0 } as const;

async function collect<E, R>(run: AsyncGenerator<E, R>): Promise<{ events: E[]; result: R }> {
  const events: E[] = [];
  let next = await run.next();
  while (!next.done) {
    events.push(next.value);
    next = await run.next();
  }
  return { events, result: next.value };
}

describe('the library API', () => {
  const corpus = corpusFile(englishLike(6000));
  let done: DoneEvent;
  let events: TrainEvent[];
  let model: Model;

  beforeAll(async () => {
    ({ events, result: done } = await collect(train({ corpus: corpus.path, steps: 12, evalEvery: 6, out: join(corpus.dir, 'run'), ...SMALL })));
    model = await loadModel(done.best ?? done.checkpoint, { backend: 'cpu' });
  });
  afterAll(() => {
    model?.close();
    rmSync(corpus.dir, { recursive: true, force: true });
  });

  it('train yields the events charlm train --json prints, the same numbers for the same flags', async () => {
    expect(events.map((e) => e.event).filter((e, i, all) => all.indexOf(e) === i)).toEqual(['start', 'step', 'eval', 'checkpoint', 'done']);
    expect(events.at(-1)).toEqual(done);
    const cli = await charlm(['train', corpus.path, '--steps', '12', '--eval-every', '6', '--hidden', '24', '--layers', '1', '--embed', '16', '--batch', '8', '--seq', '16', '--backend', 'cpu', '--sample-every', '0', '--json', '--out', join(corpus.dir, 'cli-run')]);
    expect(cli.code).toBe(0);
    const cliDone = JSON.parse(cli.stdout.trim().split('\n').pop() ?? '') as DoneEvent;
    expect(cliDone.valLoss).toBe(done.valLoss);
  });

  it('sample gives the text charlm sample prints for the same seed and settings', async () => {
    const text = await model.sample({ prime: 'The ', length: 60, temperature: 0.7, topK: 5, seed: 3 });
    const cli = await charlm(['sample', done.best ?? '', '--prime', 'The ', '--length', '60', '--temperature', '0.7', '--top-k', '5', '--seed', '3', '--backend', 'cpu']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toBe(`The ${text}\n`);
    expect(await model.sample({ prime: 'The ', length: 60, temperature: 0.7, topK: 5, seed: 4 })).not.toBe(text);
  });

  it('stream yields the sample symbol by symbol, and logProb scores that text as the sampler did', async () => {
    const stream = model.stream({ length: 40, seed: 5 });
    const pieces: string[] = [];
    let next = await stream.next();
    while (!next.done) {
      pieces.push(next.value);
      next = await stream.next();
    }
    expect(pieces).toHaveLength(40);
    expect(pieces.join('')).toBe(await model.sample({ length: 40, seed: 5 }));
    // An empty prime starts after a newline; at temperature 1 the drawn symbols' log-probabilities are the model's.
    expect(await model.logProb(`\n${pieces.join('')}`)).toBeCloseTo(next.value.logProb, 3);
  });

  it('refuses a bad option with one sentence naming it', async () => {
    await expect(model.sample({ topP: 0 })).rejects.toThrow('topP must be a number above 0 and at most 1, not 0.');
    await expect(collect(train({ corpus: corpus.path, layers: 0 }))).rejects.toThrow('layers must be a whole number of at least 1 (got 0).');
    await expect(model.logProb('a')).rejects.toThrow(/at least 2 symbols/);
    await expect(model.logProb('ax')).rejects.toThrow(/character "x" \(U\+0078\) at line 1, column 2/);
  });

  it('an aborted train stops after the step in progress and saves latest', async () => {
    const stop = new AbortController();
    const out = join(corpus.dir, 'aborted');
    const run = train({ corpus: corpus.path, steps: 500, evalEvery: 1000, out, signal: stop.signal, ...SMALL });
    const seen: TrainEvent[] = [];
    for await (const e of run) {
      seen.push(e);
      if (e.event === 'step' && e.step === 3) stop.abort();
    }
    const last = seen.at(-1) as DoneEvent;
    expect(last).toMatchObject({ event: 'done', stopped: true, step: 3, checkpoint: join(out, 'latest.safetensors') });
    const resumed = await loadModel(last.checkpoint, { backend: 'cpu' });
    expect(resumed.checkpoint.progress.step).toBe(3);
    resumed.close();
  });

  it("evaluate on the run's own validation split gives the val loss training reported, as charlm eval does", async () => {
    const r = await evaluate(model);
    expect(r.split).toBe('val');
    expect(r.loss).toBe(done.valLoss);
    const cli = await charlm(['eval', done.best ?? '', '--json', '--backend', 'cpu']);
    expect(JSON.parse(cli.stdout)).toMatchObject({ loss: r.loss, bpc: r.bpc, chars: r.chars });
  });

  it('compare trains each cell under one budget and returns the report rows', async () => {
    const { events: seen, result } = await collect(compare({ corpus: corpus.path, out: join(corpus.dir, 'compare'), cells: ['gru', 'rnn'], steps: 4, ...SMALL }));
    expect(seen.filter((e) => e.event === 'run-done')).toHaveLength(2);
    expect(result.rows.map((r) => r.cell).sort()).toEqual(['gru', 'rnn']);
    expect(result.stopped).toBe(false);
  });
});
