// The pool worker, as a plain-JavaScript string run with `new Worker(source,
// { eval: true })`: no TypeScript loader is involved, so it starts the same
// under tsx, vitest and node (gpu.js's own pool does the same).
//
// Dispatch is Atomics-based over the control words at the start of the shared
// memory. The caller writes a job, sets OPEN, bumps GENERATION and notifies; a
// worker spins on GENERATION (CONTROL.SPIN µs), then sleeps in Atomics.wait.
// A woken worker counts itself ACTIVE and joins only while the job is still
// OPEN; the work itself is claimed unit by unit inside the module. The caller,
// once nothing is left to claim, closes the job and waits until ACTIVE is 0,
// so a worker that wakes late finds the job closed (or joins the next one,
// which is complete once OPEN is set) and never reads a half-written job; the
// caller never waits for a worker that has not started. (ACTIVE before OPEN on
// the worker's side, OPEN before ACTIVE on the caller's, all sequentially
// consistent: one of the two always sees the other.) A trap is recorded in
// ERROR, never left to hang the caller.
//
// Spins are bounded in time, not iterations (20000 Atomics.load calls took
// 0.2 to 6 ms here depending on load).

import { JOB, JOB_WORDS } from './module.js';

export const CONTROL = {
  GENERATION: 0,
  STOP: 1,
  ERROR: 2,
  /** Microseconds an idle worker spins before it sleeps (the caller sets it: see SPIN_US, HOT_SPIN_US). */
  SPIN: 3,
  /** 1 while the job at JOB_OFFSET may be joined. */
  OPEN: 4,
  /** Workers inside the current job. */
  ACTIVE: 5,
} as const;

/** Byte offset of the job descriptor (after the control words). */
export const JOB_OFFSET = 64;

/**
 * Microseconds a thread spins on a control word before it sleeps in
 * Atomics.wait. A futex wake costs 15–35 µs here (an Atomics wait/notify round
 * trip 26 µs, a postMessage round trip 35 µs), a spinning hand-off ~1 µs.
 * Outside a pinned pass an idle worker spins briefly, leaving its core to the
 * rest of the process; the caller, blocked anyway while the others finish,
 * spins longer.
 */
export const SPIN_US = 20;
export const CALLER_SPIN_US = 100;
/**
 * While weights are pinned (inside a forward or backward pass, or a sample),
 * products arrive every few hundred microseconds with only the calling
 * thread's gpu.js kernels in between, so the other cores are idle anyway: an
 * idle worker spins this long, and a thin product's hand-off costs ~1 µs
 * instead of a futex wake.
 */
export const HOT_SPIN_US = 1000;

/**
 * Waits until ctl[word] satisfies `done(value)`: spins up to `spinUs`, then
 * sleeps in Atomics.wait (slices of `sliceMs`, so a changed word is seen even
 * if a notify was missed). The worker source below has its own two forms.
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
const J = ${JSON.stringify({ participants: JOB.participants, splitColumns: JOB.splitColumns, packed: JOB.packed, panels: JOB.panels, packedPanels: JOB.packedPanels })};
const JOB = ${JOB_OFFSET};
// The two waits are spelled out rather than one waitFor taking a predicate: a
// fresh closure per job made V8 deoptimise the spin loop on every job ("wrong
// call target", ~1000 times in 900 sampled symbols), and each re-optimisation
// took compiler time from the two cores.
function waitChange(a, word, seen) {
  let v = Atomics.load(a, word);
  if (v !== seen) return v;
  const until = performance.now() + Atomics.load(ctl, C.SPIN) / 1000;
  for (let s = 1; v === seen; s++) {
    if ((s & 63) === 0 && performance.now() > until) break;
    v = Atomics.load(a, word);
  }
  while (v === seen) { Atomics.wait(a, word, v); v = Atomics.load(a, word); }
  return v;
}
function waitPacked(panels) {
  const until = performance.now() + Atomics.load(ctl, C.SPIN) / 1000;
  let sleep = false;
  for (let s = 1; ; s++) {
    const v = Atomics.load(job, J.packedPanels);
    if (v >= panels || Atomics.load(ctl, C.ERROR) !== 0) return;
    if (sleep) Atomics.wait(job, J.packedPanels, v, 1);
    else if ((s & 63) === 0) sleep = performance.now() > until;
  }
}
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, 16);
const job = new Int32Array(memory.buffer, JOB, ${JOB_WORDS});

let seen = Atomics.load(ctl, C.GENERATION);
parentPort.postMessage('ready');
for (;;) {
  seen = waitChange(ctl, C.GENERATION, seen);
  if (Atomics.load(ctl, C.STOP) !== 0) break;
  Atomics.add(ctl, C.ACTIVE, 1);
  if (Atomics.load(ctl, C.OPEN) === 1 && index < job[J.participants]) {
    try {
      ex.prepare(JOB, index);
      if (!job[J.splitColumns] && !job[J.packed]) {
        waitPacked(job[J.panels]);
      }
      if (Atomics.load(ctl, C.ERROR) === 0) ex.compute(JOB, index);
    } catch (e) { Atomics.store(ctl, C.ERROR, 1); }
  }
  Atomics.sub(ctl, C.ACTIVE, 1);
  Atomics.notify(ctl, C.ACTIVE);
}
`;
