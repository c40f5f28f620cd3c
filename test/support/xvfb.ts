// Gives tests an X display for headless-gl. The `gl` addon reads DISPLAY when
// it creates a context (not when it loads), so setting process.env.DISPLAY in
// the test worker before the first context is enough; gpu.js, however,
// remembers its first headlessgl support check, so call ensureDisplay() in
// beforeAll before anything asks gpu.js about headlessgl.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';

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
  // -displayfd makes Xvfb write the display number once it accepts
  // connections. Polling the socket instead could see another worker's server
  // that won the race for the same number while this one is failing.
  const child = spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-displayfd', '3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const ready = child.stdio[3] as Readable;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Xvfb ${display} did not accept connections within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      ready.setEncoding('utf8').once('data', () => settle());
      child.once('error', settle);
      child.once('exit', (code, signal) =>
        settle(new Error(`Xvfb ${display} exited (${signal ?? code}) before accepting connections: ${stderr.trim()}`)),
      );
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.removeAllListeners('exit');
  child.stderr?.removeAllListeners('data').resume();
  ready.resume();
  stopWithThisProcess(child);
  return display;
}

function stopWithThisProcess(child: ChildProcess): void {
  // Not a child's stdio or handle the event loop would wait on.
  child.unref();
  for (const stream of [child.stderr, child.stdio[3]]) (stream as { unref?: () => void } | null)?.unref?.();
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

// A display "works" when its X server completes the X11 connection setup:
// over the Unix socket for ":N" / "unix:N", TCP port 6000+N for "host:N".
// The setup is sent without credentials; a server that asks for them (as one
// started by xvfb-run does) counts only when XAUTHORITY names a cookie file.
function displayAnswers(display: string): Promise<boolean> {
  const match = /^(?<host>[^:]*):(?<n>\d+)(?:\.\d+)?$/.exec(display);
  if (!match?.groups) return Promise.resolve(false);
  const { host, n } = match.groups as { host: string; n: string };
  const local = host === '' || host === 'unix';
  const attempts = local
    ? [{ path: `/tmp/.X11-unix/X${n}` }, { path: `\0/tmp/.X11-unix/X${n}` }]
    : [{ host, port: 6000 + Number(n) }];
  return attempts.reduce<Promise<boolean>>(
    (earlier, target) => earlier.then((ok) => ok || handshake(target)),
    Promise.resolve(false),
  );
}

function handshake(target: { path: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      // Little-endian setup request, protocol 11.0, no authorisation.
      socket.write(Buffer.from([0x6c, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    });
    socket.once('data', (reply: Buffer) => {
      // First reply byte: 1 success, 0 failed, 2 authenticate.
      done(reply[0] === 1 || (reply[0] !== undefined && Boolean(process.env.XAUTHORITY)));
    });
  });
}
