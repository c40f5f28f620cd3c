import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeCpu, probeHeadlessGL, probeWebAsm, probeWebGPU } from '../../src/compute/probe.js';
import type { BackendProbe } from '../../src/compute/probe.js';
import { ensureDisplay } from '../support/xvfb.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// Runs an ES-module snippet in a fresh Node process with the project's
// TypeScript loader and returns the JSON on its last stdout line. Needed
// because headless-gl (GLX) and Dawn's OpenGL ES backend (EGL) cannot share
// one process on Mesa, and because gpu.js remembers its first headlessgl check.
async function inChild(script: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    { cwd: repoRoot, env, timeout: 90_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as unknown;
}

// These expectations describe this project's CI machine: no GPU, Mesa llvmpipe
// behind both Xvfb (headless-gl) and EGL surfaceless (Dawn's OpenGL ES).
describe('backend probes', () => {
  let display: string;

  beforeAll(async () => {
    display = await ensureDisplay();
  });

  it('cpu runs the reference kernel', () => {
    expect(probeCpu()).toMatchObject({ backend: 'cpu', available: true, hardware: false });
  });

  it('webasm runs as webasm, not a silent cpu fallback', () => {
    const probe = probeWebAsm();
    expect(probe, probe.detail).toMatchObject({ backend: 'webasm', available: true, hardware: false });
    expect(probe.detail).toMatch(/WebAssembly/);
  });

  it('headlessgl runs under Xvfb and names the software renderer', () => {
    const probe = probeHeadlessGL();
    expect(probe, probe.detail).toMatchObject({ backend: 'headlessgl', available: true, hardware: false });
    // The real ANGLE renderer string, not the fixed "ANGLE" gl's JS layer reports.
    expect(probe.detail).toMatch(/^ANGLE \(.*llvmpipe/);
    expect(probe.detail).toContain(`X display ${display}`);
  });

  it('webgpu after headlessgl in one process explains the GL clash instead of throwing', async () => {
    expect(probeHeadlessGL().available).toBe(true);
    const probe = await probeWebGPU();
    expect(probe).toMatchObject({ backend: 'webgpu', available: false, hardware: false });
    expect(probe.detail).toMatch(/headless-gl already holds a GL context/);
  });

  it('webgpu runs through Dawn OpenGL ES on llvmpipe, with the raised storage-buffer limit', async () => {
    const script = `
      const { probeWebGPU, probeHeadlessGL } = await import('./src/compute/probe.ts');
      const { installNavigatorGPU, dawnBackendInUse } = await import('./src/compute/webgpu-shim.ts');
      const { GPU } = (await import('gpu.js')).default;
      const probe = await probeWebGPU();
      const first = await installNavigatorGPU();
      const again = await installNavigatorGPU();
      // Nine array arguments plus the output need ten storage buffers, over
      // WebGPU's default of eight per shader stage.
      const gpu = new GPU({ mode: 'webgpu' });
      const sum9 = gpu.createKernel(function (a, b, c, d, e, f, g, h, i) {
        const x = this.thread.x;
        return a[x] + b[x] + c[x] + d[x] + e[x] + f[x] + g[x] + h[x] + i[x];
      }, { output: [4] });
      const ones = [1, 1, 1, 1];
      const sum = Array.from(await sum9(ones, ones, ones, ones, ones, [2, 2, 2, 2], ones, ones, ones));
      const sumMode = sum9.kernel.constructor.mode;
      gpu.destroy();
      // With DISPLAY set this would be a fatal X error if the probe tried GLX.
      const gl = probeHeadlessGL();
      console.log(JSON.stringify({ probe, first, same: JSON.stringify(first) === JSON.stringify(again),
        backend: dawnBackendInUse(), sum, sumMode, gl }));
    `;
    const out = (await inChild(script, { ...process.env, DISPLAY: display })) as {
      probe: BackendProbe;
      first: { ok: boolean; adapter?: string };
      same: boolean;
      backend: string;
      sum: number[];
      sumMode: string;
      gl: BackendProbe;
    };
    expect(out.probe, out.probe.detail).toMatchObject({ backend: 'webgpu', available: true, hardware: false });
    expect(out.probe.detail).toMatch(/llvmpipe.*\(Dawn opengles, compatibility\)/);
    expect(out.first).toEqual({ ok: true, adapter: out.probe.detail });
    expect(out.same).toBe(true);
    expect(out.backend).toBe('opengles');
    expect(out.sum).toEqual([10, 10, 10, 10]);
    expect(out.sumMode).toBe('webgpu');
    expect(out.gl).toMatchObject({ backend: 'headlessgl', available: false });
    expect(out.gl.detail).toMatch(/Dawn's OpenGL ES backend/);
  });

  it('headlessgl without a display says so instead of throwing', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const probe = (await inChild(
      `const { probeHeadlessGL } = await import('./src/compute/probe.ts');
       console.log(JSON.stringify(probeHeadlessGL()));`,
      env,
    )) as BackendProbe;
    expect(probe).toMatchObject({ backend: 'headlessgl', available: false, hardware: false });
    expect(probe.detail).toMatch(/^No X display: DISPLAY is not set/);
  });
});
