import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpujsPatched } from '../../src/compute/gpujs-patch.js';

// What `npm pack` would publish, installed the way a user installs it: the tarball into an empty
// folder, its dependencies from npm (the local cache first), its postinstall run. Optional
// dependencies are left out, so gpu.js's `gl` addon is not compiled (minutes) for a test that
// runs on webasm anyway.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/package/', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const quiet = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...quiet, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<Result> {
  const r = await run(command, args, cwd);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

interface PackedFile {
  path: string;
  size: number;
}
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

describe('the npm package', () => {
  let work: string;
  let checkout: string;
  let consumer: string;
  let packed: Packed;
  let install: Result;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'charlm-package-'));
    // Packed from a copy of the checkout: `prepare` rebuilds dist/, which other test files' bin/charlm may be running.
    checkout = join(work, 'checkout');
    const listed = await ok('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
    for (const path of listed.stdout.split('\0').filter((p) => p !== '')) {
      await cp(join(ROOT, path), join(checkout, path), { force: true }).catch((e: NodeJS.ErrnoException) => {
        // A file deleted in the working tree but still in the index is not part of it.
        if (e.code !== 'ENOENT') throw e;
      });
    }
    await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    const pack = await ok('npm', ['pack', '--json', '--pack-destination', work], checkout);
    packed = (JSON.parse(pack.stdout) as Packed[])[0];

    consumer = join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    install = await ok('npm', ['install', join(work, packed.filename), '--prefer-offline', '--omit=optional', '--foreground-scripts'], consumer);
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('publishes the compiled build with declarations, the bin and the gpu.js patch; no sources, tests or fixtures', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'bin/charlm', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/web/page.html', 'scripts/patch-gpujs.mjs', 'src/compute/patches/gpu.js+2.24.1.patch']));
    expect(paths.filter((p) => p.startsWith('test/') || p.startsWith('corpora/') || p.startsWith('checkpoints/'))).toEqual([]);
    expect(paths.filter((p) => /\.tsx?$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('src/') && !p.startsWith('src/compute/patches/'))).toEqual([]);
  });

  it("applies the gpu.js patch on a user's install, to the gpu.js charlm resolves", async () => {
    expect(install.stdout).toMatch(/gpu\.js@2\.24\.1 ✔/);
    expect(gpujsPatched(join(consumer, 'node_modules/gpu.js/src/backend/web-assembly/function-node.js'))).toBe(true);
  });

  it('npx charlm --version runs the compiled build', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await ok('npx', ['charlm', '--version'], consumer);
    expect(r.stdout.trim()).toBe(`${manifest.version} (compiled)`);
  });

  it('trains from npx, samples, and a .mjs program importing charlm prints the same sample', async () => {
    const text = (await readFile(join(ROOT, 'README.md'), 'utf8')).slice(0, 6000);
    await writeFile(join(consumer, 'notes.txt'), text);
    const trained = await ok('npx', ['charlm', 'train', 'notes.txt', '--steps', '20', '--json', '--hidden', '32', '--layers', '1', '--out', 'run'], consumer);
    const done = JSON.parse(trained.stdout.trim().split('\n').pop() ?? '') as { event: string; step: number; best: string | null; backend: string };
    expect(done).toMatchObject({ event: 'done', step: 20 });
    // --backend auto probes webgpu in a child process: the compiled one runs dist/compute/probe-child.js without tsx.
    expect(done.backend).toMatch(/webgpu/);
    expect(done.backend).not.toMatch(/probe process failed/);
    expect(done.best).toBe(join(consumer, 'run', 'best.safetensors'));

    const sampled = await ok('npx', ['charlm', 'sample', 'run/best.safetensors', '--length', '50', '--seed', '1'], consumer);
    expect([...sampled.stdout.replace(/\n$/, '')].length).toBeGreaterThanOrEqual(50);

    await cp(join(FIXTURES, 'sample.mjs'), join(consumer, 'sample.mjs'));
    const script = await ok(process.execPath, ['sample.mjs', 'run/best.safetensors'], consumer);
    expect(script.stdout).toBe(sampled.stdout);
  });

  it('exports a page from npx: the compiled build bundles dist/web with esbuild and reads its page.html', async () => {
    const r = await ok('npx', ['charlm', 'export', 'run/best.safetensors', '--html', 'page.html'], consumer);
    expect(r.stdout).toMatch(/^wrote page\.html /);
    const html = await readFile(join(consumer, 'page.html'), 'utf8');
    expect(html).toContain('id="charlm-weights"');
    expect(html).not.toMatch(/\{\{[A-Z_]+\}\}/);
  });

  it('in a checkout, bin/charlm runs dist/ while it is current, else the sources through tsx, and says why', async () => {
    const version = async (): Promise<Result> => {
      const r = await run(process.execPath, [join(checkout, 'bin/charlm'), '--version'], checkout, { CHARLM_DEBUG: '1' });
      expect(r.code).toBe(0);
      return r;
    };
    // `npm pack` ran `prepare`, which built dist/ in the copy.
    expect(await version()).toMatchObject({ stdout: expect.stringMatching(/\(compiled\)$/m), stderr: expect.stringContaining('dist/ is up to date with src/') });
    const later = new Date(Date.now() + 60_000);
    await utimes(join(checkout, 'src/cli/info.ts'), later, later);
    expect(await version()).toMatchObject({
      stdout: expect.stringMatching(/\(TypeScript sources through tsx\)$/m),
      stderr: expect.stringContaining(`src/${join('cli', 'info.ts')} is newer than dist/`),
    });
    await rm(join(checkout, 'dist'), { recursive: true });
    expect(await version()).toMatchObject({ stdout: expect.stringMatching(/through tsx/), stderr: expect.stringContaining('dist/ is not built') });
  });

  it('a strict TypeScript program typechecks against the published declarations', async () => {
    await cp(join(FIXTURES, 'consumer.ts'), join(consumer, 'consumer.ts'));
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const options = {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      noEmit: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
    };
    // As most projects set it (skipLibCheck, as `tsc --init` writes), and with every declaration file
    // checked too: charlm's own, and gpu.js's, which name DOM types (WebGLRenderingContext, …).
    for (const extra of [{ lib: ['ES2023'], skipLibCheck: true }, { lib: ['ES2023', 'DOM'], skipLibCheck: false }]) {
      await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...options, ...extra }, files: ['consumer.ts'] }));
      const r = await run(tsc, ['-p', 'tsconfig.json'], consumer);
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.code).toBe(0);
    }
  });
});
