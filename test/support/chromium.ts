import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's `chromium` package, which .ci/run installs; nothing is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

interface Reply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

/**
 * Headless Chromium driven through the DevTools protocol over a pipe
 * (--remote-debugging-pipe: requests on fd 3, replies on fd 4, each message a
 * JSON text ended by a NUL byte), so no port, WebSocket client or npm driver
 * is needed. Flags: WebGL and a WebGPU adapter on SwiftShader (software, so
 * the page's auto passes them over but each can be asked for by name), and
 * file:// pages allowed to read file:// URLs.
 */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private buffered = '';
  private readonly profile = mkdtempSync(join(tmpdir(), 'charlm-chromium-'));
  private readonly child: ChildProcess;
  stderr = '';

  constructor() {
    this.child = spawn(
      CHROMIUM,
      [
        '--headless=new',
        '--no-sandbox',
        '--remote-debugging-pipe',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-webgpu-adapter=swiftshader',
        '--allow-file-access-from-files',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${this.profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    (this.child.stdio[4] as Readable).on('data', (d: Buffer) => this.receive(d.toString()));
    this.child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`Chromium exited: ${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  private receive(text: string): void {
    this.buffered += text;
    let end: number;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffered.slice(0, end)) as Reply;
      this.buffered = this.buffered.slice(end + 1);
      const p = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!p || message.id === undefined) continue;
      this.pending.delete(message.id);
      if (message.error) p.reject(new Error(message.error.message));
      else p.resolve(message.result);
    }
  }

  /** One protocol command; `sessionId` addresses a page attached with `open`. */
  send<T>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return done;
  }

  /** A new tab at `url`, attached; returns the session to address it by. */
  async open(url: string, width = 1100, height = 640): Promise<string> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    await this.send('Page.enable', {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    await this.until(sessionId, "document.readyState === 'complete'", 30_000);
    return sessionId;
  }

  /** The value of a page expression (awaited when it is a promise); a thrown error is rethrown here. */
  async evaluate<T>(sessionId: string, expression: string): Promise<T> {
    const r = await this.send<{ result: { value?: unknown }; exceptionDetails?: { exception?: { description?: string }; text: string } }>(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    );
    if (r.exceptionDetails) throw new Error(`In the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Waits until a page expression is true. */
  async until(sessionId: string, expression: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.evaluate<boolean>(sessionId, `Boolean(${expression})`))) {
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG of what the tab shows. */
  async screenshot(sessionId: string): Promise<Buffer> {
    const { data } = await this.send<{ data: string }>('Page.captureScreenshot', { format: 'png' }, sessionId);
    return Buffer.from(data, 'base64');
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.send('Browser.close').catch(() => undefined);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    rmSync(this.profile, { recursive: true, force: true });
  }
}
