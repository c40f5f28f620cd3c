// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { render } from 'ink';
import { Rng } from '../model/rng.js';
import type { SampleSession } from '../sample/session.js';
import type { SamplingOptions } from '../sample/strategy.js';
import type { StopReason } from '../ui/dashboard-state.js';
import { createSampleViewStore } from '../ui/sample-view-state.js';
import { SampleView, type SampleViewInfo } from '../ui/sample-view.js';
import { LiveSampler } from './live-sample.js';

const FRAME_MS = 33;
/** Seeds `charlm sample --seed` accepts (Rng keeps 32 signed bits). */
const SEEDS = 2 ** 31;

export interface SampleViewRun {
  /** Stop sequences, the repetition guard and document mode apply to every sample the view shows. */
  readonly session: SampleSession;
  /** The --prime text as the model reads it (empty when none). */
  readonly primeText: string;
  readonly options: SamplingOptions;
  readonly seed: number;
  readonly info: SampleViewInfo;
}

/**
 * `charlm sample` on a terminal: the sampling view. Returns the exit status,
 * 0 on q, 130 on Ctrl-C.
 */
export async function sampleWithView(run: SampleViewRun): Promise<number> {
  const { session } = run;
  const { length } = session;
  const store = createSampleViewStore(FRAME_MS);
  const live = new LiveSampler((seed, options) => session.draw(options, Rng.scrambled(seed)), run.options);
  const begin = (seed: number): void => {
    live
      .start(seed, {
        start: (s) => store.dispatch({ event: 'start', seed: s, at: performance.now() }),
        text: (text) => store.dispatch({ event: 'text', text, at: performance.now() }),
        end: (completed) => store.dispatch({ event: 'end', completed, at: performance.now() }),
      })
      .catch((e: unknown) => store.dispatch({ event: 'error', message: `sampling failed: ${e instanceof Error ? e.message : String(e)}` }));
  };

  let reason = 'quit' as StopReason;
  const app = render(
    <SampleView
      store={store}
      controls={{
        setSampling: (s) => live.set({ temperature: s.temperature, topK: s.topK }),
        pause: () => {
          live.pause();
          store.dispatch({ event: 'paused', paused: true, at: performance.now() });
        },
        resume: () => {
          live.resume();
          store.dispatch({ event: 'paused', paused: false, at: performance.now() });
        },
        again: () => begin(Math.floor(Math.random() * SEEDS)),
        quit: (why) => {
          reason = why;
          void live.cancel();
        },
      }}
      initialSampling={{ temperature: run.options.temperature, topK: run.options.topK }}
      prime={run.primeText}
      length={length}
      info={run.info}
    />,
    { exitOnCtrlC: false },
  );
  // In raw mode Ctrl-C arrives as a key; a SIGINT from elsewhere (kill -INT) ends the view the same way.
  const onSigint = (): void => {
    reason = 'interrupt';
    void live.cancel();
    app.unmount();
  };
  process.on('SIGINT', onSigint);
  begin(run.seed);
  try {
    await app.waitUntilExit();
  } finally {
    process.off('SIGINT', onSigint);
  }
  await live.cancel();
  return reason === 'interrupt' ? 130 : 0;
}
