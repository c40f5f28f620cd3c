// Counts what crosses between the host and a WebGPU device: queue
// submissions, blocking readbacks (GPUBuffer.mapAsync) and bytes written by
// queue.writeBuffer. Installed around the WebGPU classes once they exist
// (webgpu-shim.ts in Node; a page's own navigator.gpu in a browser), so a
// benchmark or a test reads the real traffic of whatever ran, gpu.js's
// per-kernel path and its pipelines alike.

/** Cumulative totals since the counter was installed. */
export interface DeviceTraffic {
  readonly submits: number;
  readonly readbacks: number;
  readonly uploadBytes: number;
}

const totals = { submits: 0, readbacks: 0, uploadBytes: 0 };
let installed = false;

interface Prototyped {
  prototype: Record<string, unknown>;
}

/** Replaces `target[method]` (a class's prototype, or one object) by a version that counts each call first. */
function wrap(target: Record<string, unknown>, method: string, count: (args: unknown[]) => void): void {
  const original = target[method];
  if (typeof original !== 'function') return;
  target[method] = function (this: unknown, ...args: unknown[]): unknown {
    count(args);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/** Whether the counter is installed (the WebGPU classes were found); idempotent. */
export function countDeviceTraffic(): boolean {
  if (installed) return true;
  const g = globalThis as Record<string, unknown>;
  if (!g.GPUQueue || !g.GPUBuffer) return false;
  const queue = (g.GPUQueue as Prototyped).prototype;
  wrap(queue, 'submit', () => totals.submits++);
  wrap(queue, 'writeBuffer', (args) => {
    // writeBuffer(buffer, offset, data, dataOffset?, size?): size counts elements of a typed array
    const data = args[2] as ArrayBufferView | ArrayBuffer;
    const bytes = ArrayBuffer.isView(data) ? data.byteLength : data.byteLength;
    const element = ArrayBuffer.isView(data) && 'BYTES_PER_ELEMENT' in data ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    totals.uploadBytes += typeof args[4] === 'number' ? args[4] * element : bytes - (typeof args[3] === 'number' ? args[3] * element : 0);
  });
  wrap((g.GPUBuffer as Prototyped).prototype, 'mapAsync', () => totals.readbacks++);
  installed = true;
  return true;
}

const countedContexts = new WeakSet<object>();
let glCounted = false;

/**
 * Counts a headless-gl context's blocking readbacks (readPixels) and the
 * bytes its texture uploads carry (texImage2D / texSubImage2D with data).
 * GL has no queue submission to count. Idempotent per context.
 */
export function countGLTraffic(context: object): void {
  if (countedContexts.has(context)) return;
  countedContexts.add(context);
  glCounted = true;
  const gl = context as Record<string, unknown>;
  wrap(gl, 'readPixels', () => totals.readbacks++);
  const upload = (args: unknown[]): void => {
    const data = args[args.length - 1];
    if (ArrayBuffer.isView(data)) totals.uploadBytes += data.byteLength;
  };
  wrap(gl, 'texImage2D', upload);
  wrap(gl, 'texSubImage2D', upload);
}

export function deviceTraffic(): DeviceTraffic {
  return { ...totals };
}

/** Traffic between two readings, divided by `per` (steps, symbols). */
export function trafficPer(before: DeviceTraffic, after: DeviceTraffic, per: number): DeviceTraffic {
  return {
    submits: (after.submits - before.submits) / per,
    readbacks: (after.readbacks - before.readbacks) / per,
    uploadBytes: (after.uploadBytes - before.uploadBytes) / per,
  };
}

/** What a benchmark reports: as DeviceTraffic, with `submits` null where the backend has no queue (GL). */
export interface ReportedTraffic {
  readonly submits: number | null;
  readonly readbacks: number;
  readonly uploadBytes: number;
}

/**
 * Traffic per unit as a benchmark reports it: counted on webgpu and on
 * headlessgl (readPixels and texture uploads; no submissions there); zero on
 * webasm and cpu, where nothing lives on a device; null where no counter saw
 * the device.
 */
export function reportedTraffic(backend: string, before: DeviceTraffic, after: DeviceTraffic, per: number): ReportedTraffic | null {
  if (backend === 'webasm' || backend === 'cpu') return { submits: 0, readbacks: 0, uploadBytes: 0 };
  if (backend === 'webgpu' && installed) return trafficPer(before, after, per);
  if (backend === 'headlessgl' && glCounted) return { ...trafficPer(before, after, per), submits: null };
  return null;
}
