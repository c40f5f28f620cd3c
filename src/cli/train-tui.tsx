// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { render, type Instance } from 'ink';
import { Rng } from '../model/rng.js';
import { primeIds } from '../sample/prime.js';
import { Sampler } from '../sample/sampler.js';
import { Trainer, type TrainerOptions } from '../train/trainer.js';
import { Dashboard, type DashboardControls } from '../ui/dashboard.js';
import { createDashboardStore, type StopReason } from '../ui/dashboard-state.js';
import { LiveSampler, oneCallAtATime } from './live-sample.js';
import { STOP_SIGNALS, signalStatus } from './signals.js';

/** How often the dashboard may redraw; a terminal shows no more, and each frame costs layout work. */
const FRAME_MS = 33;

/**
 * Trains with the Ink dashboard on the terminal. Live samples come from the
 * CLI's own sampler on the trainer's current weights, not from the trainer's
 * sample hook: the hook returns a finished text and holds training while it
 * runs, where the dashboard wants characters as they are drawn, samples on
 * demand (also while paused), and training to go on meanwhile.
 *
 * Returns the exit status: 0 when the run ends or `q` stops it, 130 after
 * Ctrl-C (as a shell expects of an interrupted program); `latest` is saved
 * either way before the dashboard leaves.
 */
export async function trainWithDashboard(options: Omit<TrainerOptions, 'sample'>): Promise<number> {
  const { compute, vocab, model, config } = options;
  const runner = oneCallAtATime(compute.runner);
  const trainer = new Trainer({ ...options, compute: { ...compute, runner } });
  const sampler = new Sampler(runner, model);
  // In document mode a live sample is one document, as in the plain log: from END to END.
  const end = vocab.endOfDocument;
  const prime = end === null ? primeIds(vocab, '') : Int32Array.of(end);
  const store = createDashboardStore(FRAME_MS);
  trainer.subscribe(store.dispatch);

  const initial = { temperature: config.temperature, topK: 0 };
  const live = new LiveSampler(
    (seed, opts) => symbols(sampler.generate(trainer.params!, prime, config.sampleLength, opts, Rng.scrambled(seed)), (id) => vocab.decode([id]), end),
    { ...initial, topP: 1 },
  );
  let step = 0;
  let onDemand = 0;
  const sample = (seed: number, demanded: boolean): void => {
    if (!trainer.params) return;
    const at = step;
    live
      .start(seed, {
        start: (s) => store.dispatch({ event: 'live-sample-start', step: at, seed: s, onDemand: demanded }),
        text: (text) => store.dispatch({ event: 'live-sample-text', text }),
        end: () => store.dispatch({ event: 'live-sample-end' }),
      })
      .catch((e: unknown) => store.dispatch({ event: 'error', step: at, message: `sampling failed: ${e instanceof Error ? e.message : String(e)}` }));
  };
  trainer.subscribe((e) => {
    if (e.event === 'start' || e.event === 'step') step = e.step;
    // The same seed as a plain run's sample at this step, so both show the same text at the same settings.
    // A sample still streaming is left to finish rather than restarted.
    if (e.event === 'step' && config.sampleEvery > 0 && e.step % config.sampleEvery === 0 && !live.busy) sample(config.seed * 7919 + e.step, false);
  });

  let app: Instance | null = null;
  let reason: StopReason | null = null;
  /** The first signal that stopped the run, for the exit status; Ctrl-C typed in raw mode counts as SIGINT. */
  let signalled: NodeJS.Signals | null = null;
  const stop = (why: StopReason): void => {
    if (reason !== null) {
      // A second Ctrl-C leaves at once; checkpoints are written atomically, so nothing half-written stays behind.
      if (why === 'interrupt') {
        app?.unmount();
        process.exit(signalStatus(signalled ?? 'SIGINT'));
      }
      return;
    }
    reason = why;
    void live.cancel();
    trainer.stop();
  };
  const controls: DashboardControls = {
    setSampling: (s) => live.set({ temperature: s.temperature, topK: s.topK }),
    resample: () => sample(config.seed * 7919 + step + 1_000_003 * ++onDemand, true),
    pause: () => trainer.pause(),
    resume: () => trainer.resume(),
    save: () => trainer.saveNow(),
    stop,
  };
  // In raw mode Ctrl-C arrives as a key; a signal from elsewhere (kill -INT, kill, a closed terminal) takes the same path.
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
    store.dispatch({ event: 'stopping', reason: 'interrupt' });
    stop('interrupt');
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  app = render(
    <Dashboard store={store} controls={controls} initialSampling={initial} sampleEvery={config.sampleEvery} budgetMinutes={config.budget.minutes ?? null} />,
    { exitOnCtrlC: false },
  );
  try {
    await trainer.run();
  } catch (e) {
    await live.cancel();
    store.flush();
    app.unmount();
    throw e;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  await live.cancel();
  // The dashboard leaves by itself once it has drawn `done`; the timer only guards against it never doing so.
  store.flush();
  const left = app.waitUntilExit();
  const guard = setTimeout(() => app?.unmount(), 2000);
  await left;
  clearTimeout(guard);
  return reason === 'interrupt' ? signalStatus(signalled ?? 'SIGINT') : 0;
}

async function* symbols(ids: AsyncIterable<number>, decode: (id: number) => string, end: number | null): AsyncGenerator<string> {
  for await (const id of ids) {
    if (id === end) return;
    yield decode(id);
  }
}
