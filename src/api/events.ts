/** What Trainer and CompareRunner have in common: listeners for their events, a stop request, and a run to the end. */
export interface EventSource<E, R> {
  subscribe(listener: (event: E) => void): void;
  stop(): void;
  run(): Promise<R>;
}

/**
 * Runs `source` and yields its events as they come; returns what `run()`
 * resolves to, or throws what it throws. Aborting `signal`, or leaving the
 * loop early, asks the source to stop (it saves what a stop saves) and waits
 * for it, so nothing is left running or half written.
 */
export async function* eventsOf<E, R>(source: EventSource<E, R>, signal?: AbortSignal): AsyncGenerator<E, R> {
  const queue: E[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  source.subscribe((e) => {
    queue.push(e);
    wake?.();
  });
  const stop = (): void => source.stop();
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  const running = source.run().finally(() => {
    finished = true;
    wake?.();
  });
  // A failure while the caller is busy with an event is thrown from the next `next()`, not reported as unhandled.
  running.catch(() => undefined);
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as E;
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    return await running;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!finished) {
      source.stop();
      await running;
    }
  }
}
