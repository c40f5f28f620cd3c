// Runs one backend probe and prints its result as JSON: `auto` probes webgpu in a
// child process so Dawn's start-up warnings (written by native code to stderr)
// and its EGL context (which clashes with headless-gl's GLX one in one process)
// stay out of the process that trains.
import { probeWebGPU } from './probe.js';

process.stdout.write(`${JSON.stringify(await probeWebGPU())}\n`);
process.exit(0);
