/**
 * State that lives outside React: a front end dispatches events into it from
 * the moment training starts (before Ink has mounted and subscribed), and the
 * view reads it with useSyncExternalStore.
 *
 * Notifications are coalesced: a tiny model steps hundreds of times a second
 * and a sampler emits thousands of characters, while a terminal shows ~30
 * frames. `notifyEveryMs: 0` notifies on every dispatch (tests).
 */
export class Store<S, E> {
  private state: S;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    initial: S,
    private readonly reduce: (state: S, event: E) => S,
    private readonly notifyEveryMs = 0,
  ) {
    this.state = initial;
  }

  readonly getSnapshot = (): S => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly dispatch = (event: E): void => {
    this.state = this.reduce(this.state, event);
    if (this.notifyEveryMs <= 0) {
      this.notify();
      return;
    }
    // Trailing edge only: the last state of a burst is what gets drawn.
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.notify();
    }, this.notifyEveryMs);
  };

  /** Delivers a pending notification now (before unmounting, so the last frame is current). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.notify();
    }
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
