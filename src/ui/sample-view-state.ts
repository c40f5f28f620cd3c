import { Store } from './store.js';

/** What the sampling view is told; `at` is a millisecond clock reading, so rates are testable. */
export type SampleViewEvent =
  | { readonly event: 'start'; readonly seed: number; readonly at: number }
  | { readonly event: 'text'; readonly text: string; readonly at: number }
  | { readonly event: 'end'; readonly completed: boolean; readonly at: number }
  | { readonly event: 'paused'; readonly paused: boolean; readonly at: number }
  | { readonly event: 'error'; readonly message: string };

export interface SampleViewState {
  readonly seed: number | null;
  readonly text: string;
  /** Symbols generated so far (not UTF-16 units). */
  readonly count: number;
  readonly streaming: boolean;
  readonly paused: boolean;
  readonly completed: boolean;
  /** Generation time before the current unpaused stretch, and when that stretch began. */
  readonly activeMs: number;
  readonly since: number | null;
  readonly charsPerSec: number | null;
  readonly error: string | null;
}

export function initialSampleViewState(): SampleViewState {
  return { seed: null, text: '', count: 0, streaming: false, paused: false, completed: false, activeMs: 0, since: null, charsPerSec: null, error: null };
}

export function reduceSampleView(s: SampleViewState, e: SampleViewEvent): SampleViewState {
  switch (e.event) {
    case 'start':
      return { ...initialSampleViewState(), seed: e.seed, streaming: true, since: e.at };
    case 'text': {
      const count = s.count + 1;
      // Time paused is not generation time: chars/s says how fast the model writes.
      const ms = s.activeMs + (s.since === null ? 0 : e.at - s.since);
      return { ...s, text: s.text + e.text, count, charsPerSec: ms > 0 ? (count * 1000) / ms : s.charsPerSec };
    }
    case 'end':
      return { ...s, streaming: false, paused: false, completed: e.completed, activeMs: s.activeMs + (s.since === null ? 0 : e.at - s.since), since: null };
    case 'paused':
      if (e.paused === s.paused || !s.streaming) return s;
      return e.paused
        ? { ...s, paused: true, activeMs: s.activeMs + (s.since === null ? 0 : e.at - s.since), since: null }
        : { ...s, paused: false, since: e.at };
    case 'error':
      return { ...s, streaming: false, error: e.message };
  }
}

export type SampleViewStore = Store<SampleViewState, SampleViewEvent>;

export function createSampleViewStore(notifyEveryMs = 0): SampleViewStore {
  return new Store(initialSampleViewState(), reduceSampleView, notifyEveryMs);
}
