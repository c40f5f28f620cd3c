// The pool worker, as a plain-JavaScript string run with `new Worker(source,
// { eval: true })`: no TypeScript loader is involved, so it starts the same
// under tsx, vitest and node (gpu.js's own pool does the same).
//
// Dispatch is Atomics-based over the control words at the start of the shared
// memory: the caller writes a job, bumps GENERATION and notifies; a worker
// spins for SPIN_US on GENERATION, then sleeps in Atomics.wait. Each
// participant packs its share of B's panels, meets the others at a barrier,
// computes its rows and counts itself DONE. A trap is recorded in ERROR, never
// left to hang the caller.
//
// Spins are bounded in time, not iterations (20000 Atomics.load calls took
// 0.2 to 6 ms here depending on load), and short: on a 2-core machine a
// spinning thread takes the core that gpu.js's own kernel workers, or the
// participant being waited for, need.

export const CONTROL = {
  GENERATION: 0,
  DONE: 1,
  BARRIER: 2,
  STOP: 3,
  ERROR: 4,
  PARTICIPANTS: 5,
} as const;

/** Byte offset of the job descriptor (after the control words). */
export const JOB_OFFSET = 64;

/**
 * Microseconds a thread spins on a control word before it sleeps in
 * Atomics.wait. A futex wake costs 15–35 µs here (an Atomics wait/notify round
 * trip 26 µs, a postMessage round trip 35 µs), a spinning hand-off ~1 µs. An
 * idle worker spins briefly (its core is wanted by gpu.js's kernel workers);
 * the caller, blocked anyway while the others finish, spins longer.
 */
export const SPIN_US = 20;
export const CALLER_SPIN_US = 100;

/**
 * Waits until ctl[word] satisfies `done(value)`: spins up to `spinUs`, then
 * sleeps in Atomics.wait (slices of `sliceMs`, so a changed word is seen even
 * if a notify was missed). Also inlined in the worker source below.
 */
export function waitFor(ctl: Int32Array, word: number, done: (v: number) => boolean, sliceMs: number, spinUs = SPIN_US): number {
  let v = Atomics.load(ctl, word);
  if (done(v)) return v;
  const until = performance.now() + spinUs / 1000;
  for (let s = 1; !done(v); s++) {
    if ((s & 63) === 0 && performance.now() > until) break;
    v = Atomics.load(ctl, word);
  }
  while (!done(v)) {
    Atomics.wait(ctl, word, v, sliceMs);
    v = Atomics.load(ctl, word);
  }
  return v;
}

export const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, index } = workerData;
const C = ${JSON.stringify(CONTROL)};
const JOB = ${JOB_OFFSET};
const SPIN_MS = ${SPIN_US} / 1000;
function waitFor(word, done, sliceMs) {
  let v = Atomics.load(ctl, word);
  if (done(v)) return v;
  const until = performance.now() + SPIN_MS;
  for (let s = 1; !done(v); s++) {
    if ((s & 63) === 0 && performance.now() > until) break;
    v = Atomics.load(ctl, word);
  }
  while (!done(v)) { Atomics.wait(ctl, word, v, sliceMs); v = Atomics.load(ctl, word); }
  return v;
}
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, 16);

function barrier(P) {
  Atomics.add(ctl, C.BARRIER, 1);
  Atomics.notify(ctl, C.BARRIER);
  waitFor(C.BARRIER, (v) => v >= P, 5);
}

let seen = Atomics.load(ctl, C.GENERATION);
parentPort.postMessage('ready');
for (;;) {
  seen = waitFor(C.GENERATION, (g) => g !== seen, Infinity);
  if (Atomics.load(ctl, C.STOP) !== 0) break;
  const P = Atomics.load(ctl, C.PARTICIPANTS);
  if (index >= P) continue;
  try { ex.prepare(JOB, index); } catch (e) { Atomics.store(ctl, C.ERROR, 1); }
  barrier(P);
  try { if (Atomics.load(ctl, C.ERROR) === 0) ex.compute(JOB, index); } catch (e) { Atomics.store(ctl, C.ERROR, 1); }
  Atomics.add(ctl, C.DONE, 1);
  Atomics.notify(ctl, C.DONE);
}
`;
