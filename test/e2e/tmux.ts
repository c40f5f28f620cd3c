import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARLM } from '../support/cli.js';

export const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;

/**
 * A terminal a person would use, driven by a test: charlm runs in a tmux pane
 * of a fixed size on a private tmux server, keys go in with send-keys, and the
 * screen is read back with capture-pane.
 */
export class Terminal {
  private readonly socket = `charlm-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly sessions: string[] = [];

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /**
   * Runs `script` (bash) in `dir` in a new columns×rows pane. When it ends, its
   * exit status goes to `<name>.status` in `dir` and the pane stays as it was
   * left, to be read.
   */
  open(name: string, dir: string, script: string, columns = 100, rows = 30): Pane {
    const file = join(dir, `${name}.sh`);
    // CI=true makes Ink draw only its last frame; a person's terminal has no CI.
    writeFileSync(file, `unset CI CONTINUOUS_INTEGRATION\nCHARLM() { "${process.execPath}" "${CHARLM}" "$@"; }\n${script}\necho $? > ${name}.status\nsleep 600\n`);
    this.tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), '-c', dir, `bash ${file}`);
    this.sessions.push(name);
    return new Pane(this, name, join(dir, `${name}.status`));
  }

  capture(name: string): string {
    return this.tmux('capture-pane', '-p', '-t', name);
  }

  keys(name: string, ...keys: string[]): void {
    this.tmux('send-keys', '-t', name, ...keys);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}

export class Pane {
  constructor(
    private readonly terminal: Terminal,
    readonly name: string,
    private readonly statusFile: string,
  ) {}

  screen(): string {
    return this.terminal.capture(this.name);
  }

  /** Literal keys (tmux -l), so `+` and `q` are typed, not looked up as key names. */
  type(text: string): void {
    this.terminal.keys(this.name, '-l', text);
  }

  /** A named key, e.g. C-c. */
  press(key: string): void {
    this.terminal.keys(this.name, key);
  }

  /** Polls the screen until `ok` holds; fails with the last screen in the message. */
  async until(ok: (screen: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = this.screen();
      if (ok(screen)) return screen;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. The screen:\n${screen}`);
  }

  /** The exit status of the pane's script once it has ended, or null if it has not within `timeoutMs`. */
  async exitStatus(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.statusFile)) {
        const text = readFileSync(this.statusFile, 'utf8').trim();
        if (text !== '') return Number(text);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  }
}
