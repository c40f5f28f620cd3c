// Gives tests an X display for headless-gl. The `gl` addon reads DISPLAY when
// it creates a context (not when it loads), so setting process.env.DISPLAY in
// the test worker before the first context is enough; gpu.js, however,
// remembers its first headlessgl support check, so call ensureDisplay() in
// beforeAll before anything asks gpu.js about headlessgl.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

const FIRST_DISPLAY = 99;
const LAST_DISPLAY = 199;
const START_TIMEOUT_MS = 15_000;

let pending: Promise<string> | undefined;

export function ensureDisplay(): Promise<string> {
  pending ??= findOrStartDisplay().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function findOrStartDisplay(): Promise<string> {
  const current = process.env.DISPLAY;
  if (current && (await displayAnswers(current))) return current;

  let lastError: unknown;
  for (let n = FIRST_DISPLAY; n <= LAST_DISPLAY; n++) {
    if (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    try {
      const display = await startXvfb(n);
      process.env.DISPLAY = display;
      return display;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('Xvfb is not installed (apt-get install xvfb); headless-gl tests need an X display.');
      }
      // Another worker may have taken this number between the check and the
      // start; try the next one.
      lastError = error;
    }
  }
  throw new Error(`Could not start Xvfb on any display :${FIRST_DISPLAY}..:${LAST_DISPLAY}: ${String(lastError)}`);
}

async function startXvfb(n: number): Promise<string> {
  const display = `:${n}`;
  const child = spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`Xvfb ${display} exited (${signal ?? code}) before accepting connections: ${stderr.trim()}`)),
    );
  });
  exited.catch(() => {});

  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (true) {
      await Promise.race([exited, delay(50)]);
      if (await displayAnswers(display)) break;
      if (Date.now() > deadline) throw new Error(`Xvfb ${display} did not accept connections within ${START_TIMEOUT_MS / 1000} s`);
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.removeAllListeners('exit');
  child.stderr?.removeAllListeners('data').resume();
  stopWithThisProcess(child);
  return display;
}

function stopWithThisProcess(child: ChildProcess): void {
  // Not a child's stdio or handle the event loop would wait on.
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  process.once('exit', () => child.kill('SIGTERM'));
  // A worker killed by a signal never runs 'exit' handlers; a detached shell
  // waits for this process to go and then stops the server, so no Xvfb is
  // left behind for CI to wait on.
  const watcher = spawn(
    'sh',
    ['-c', 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; kill "$2" 2>/dev/null', 'xvfb-watch', String(process.pid), String(child.pid)],
    { stdio: 'ignore', detached: true },
  );
  watcher.on('error', () => {});
  watcher.unref();
}

// A display "works" when its X server accepts a connection: the Unix socket
// for local displays (":N", "unix:N"), TCP port 6000+N for "host:N".
function displayAnswers(display: string): Promise<boolean> {
  const match = /^(?<host>[^:]*):(?<n>\d+)(?:\.\d+)?$/.exec(display);
  if (!match?.groups) return Promise.resolve(false);
  const { host, n } = match.groups as { host: string; n: string };
  const local = host === '' || host === 'unix';
  const attempts = local
    ? [{ path: `/tmp/.X11-unix/X${n}` }, { path: `\0/tmp/.X11-unix/X${n}` }]
    : [{ host, port: 6000 + Number(n) }];
  return attempts.reduce<Promise<boolean>>(
    (earlier, target) => earlier.then((ok) => ok || canConnect(target)),
    Promise.resolve(false),
  );
}

function canConnect(target: { path: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
