// The pool worker, as a plain-JavaScript string run with `new Worker(source,
// { eval: true })`: no TypeScript loader is involved, so it starts the same
// under tsx, vitest and node (gpu.js's own pool does the same).
//
// Dispatch is Atomics-based over the control words at the start of the shared
// memory (see CONTROL in gemm.ts): the caller writes a job, bumps GENERATION and
// notifies; a worker spins briefly on GENERATION (a timestep loop calls a small
// product every few hundred microseconds, and a futex wake costs tens of them),
// then sleeps in Atomics.wait. Each participant packs its share of B's panels,
// meets the others at a barrier, computes
// its rows and counts itself DONE. A trap is recorded in ERROR, never left to
// hang the caller.

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

/** Spin iterations (Atomics.load) before sleeping; about 50 µs here. */
export const SPIN = 20000;

export const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, index } = workerData;
const C = ${JSON.stringify(CONTROL)};
const JOB = ${JOB_OFFSET};
const SPIN = ${SPIN};
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, 16);

function barrier(P) {
  Atomics.add(ctl, C.BARRIER, 1);
  Atomics.notify(ctl, C.BARRIER);
  let v = Atomics.load(ctl, C.BARRIER);
  for (let s = 0; v < P && s < SPIN; s++) v = Atomics.load(ctl, C.BARRIER);
  while (v < P) { Atomics.wait(ctl, C.BARRIER, v, 5); v = Atomics.load(ctl, C.BARRIER); }
}

let seen = Atomics.load(ctl, C.GENERATION);
parentPort.postMessage('ready');
for (;;) {
  let g = Atomics.load(ctl, C.GENERATION);
  for (let s = 0; g === seen && s < SPIN; s++) g = Atomics.load(ctl, C.GENERATION);
  while (g === seen) { Atomics.wait(ctl, C.GENERATION, seen); g = Atomics.load(ctl, C.GENERATION); }
  seen = g;
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
