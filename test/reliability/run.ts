import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Rng } from '../../src/model/rng.js';
import { CHARLM } from '../support/cli.js';

/** The smallest model that still exercises every part of a run: steps, evaluation, both checkpoints. */
export const TINY = ['--hidden', '8', '--embed', '4', '--layers', '1', '--batch', '2', '--seq', '8', '--sample-every', '0', '--backend', 'cpu', '--json'];

/**
 * Big enough that a checkpoint (150 KB, fsynced, renamed, folder fsynced)
 * takes a while to write, small enough that a step takes milliseconds; an
 * evaluation and one or two saves follow every step.
 */
export const SAVE_HEAVY = ['--hidden', '48', '--embed', '8', '--layers', '1', '--batch', '4', '--seq', '8', '--split', '98,1,1', '--sample-every', '0', '--backend', 'cpu', '--json'];

/** `args` without `flag` and its value, so a case's own value is the only one (yargs collects a repeated flag into a list). */
export const without = (args: string[], ...flags: string[]): string[] => args.filter((a, i) => !flags.includes(a) && !flags.includes(args[i - 1]));

export type Event = Record<string, unknown> & { event: string };
/** An event with the time it arrived (performance.now() of the test process). */
export type TimedEvent = Event & { arrivedMs: number };

export const events = (stdout: string): Event[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);

export interface Training {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Events so far. */
  readonly events: TimedEvent[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first event that matches; rejects if the process ends first. */
  until(match: (e: Event) => boolean): Promise<Event>;
  /** Exit code, or the signal's name when killed. */
  readonly exit: Promise<number | string>;
}

/** Starts the real bin/charlm with no stdin, as CI does, and follows its --json events as they arrive. */
export function start(args: string[]): Training {
  const child = spawn(process.execPath, [CHARLM, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  let out = '';
  let err = '';
  const evs: TimedEvent[] = [];
  const waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = { ...(JSON.parse(line) as Event), arrivedMs: performance.now() };
      evs.push(e);
      for (const w of [...waiters]) {
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    pid: child.pid as number,
    events: evs,
    stdout: () => out,
    stderr: () => err,
    exit,
    until(match) {
      const seen = evs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<Event>((resolve, reject) => {
        waiters.push({ match, resolve });
        void exit.then((code) => reject(new Error(`charlm ended (${code}) before the awaited event; stderr: ${err}`)));
      });
    },
  };
}

/**
 * Kills runs at random moments of their saves: after the `evals`-th eval event
 * (each is written just before its checkpoint is saved), after a random wait up
 * to 1.5 times the median save seen so far (eval event to checkpoint event),
 * which it learns from every run it has killed.
 */
export class SaveKiller {
  private readonly gaps: number[] = [40];

  constructor(private readonly rng: Rng) {}

  /** The run's exit, once it is over. */
  async kill(run: Training, evals: number): Promise<number | string> {
    await run.until((e) => e.event === 'eval' && run.events.filter((x) => x.event === 'eval').length >= evals);
    const gap = [...this.gaps].sort((a, b) => a - b)[Math.floor(this.gaps.length / 2)];
    await new Promise((r) => setTimeout(r, this.rng.uniform() * 1.5 * gap));
    run.child.kill('SIGKILL');
    const exit = await run.exit;
    const seen = run.events;
    seen.forEach((e, i) => e.event === 'eval' && seen[i + 1]?.event === 'checkpoint' && this.gaps.push(seen[i + 1].arrivedMs - e.arrivedMs));
    return exit;
  }
}

/** The whole of stderr is one line "charlm: …" (plus yargs' pointer to --help) and no stack trace. */
export function oneSentence(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length > 2 || (lines.length === 2 && lines[1] !== 'Run `charlm --help` for usage.')) {
    throw new Error(`expected one sentence on stderr, got:\n${stderr}`);
  }
  if (!/^charlm: \S.*[.)]$/.test(lines[0]) || /unexpected error|^\s+at /m.test(stderr)) {
    throw new Error(`expected a user-facing sentence, got:\n${stderr}`);
  }
  return lines[0];
}

/** Peak resident set of a live process in bytes (Linux's VmHWM), or null where /proc is not there. */
export function peakRss(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * What a run folder may hold at any moment, even right after SIGKILL: the
 * checkpoints (latest, best and those --keep-last/--keep-best keep under step
 * names), the run's history, hidden temp files of saves
 * (`.latest.safetensors.<pid>.<hex>.tmp`) or of the start-up probe, and the lock.
 */
export function unexpectedFiles(dir: string): string[] {
  return readdirSync(dir).filter(
    (n) =>
      !['latest.safetensors', 'best.safetensors', 'history.jsonl', '.charlm.lock'].includes(n) &&
      !/^step-\d{6,}\.safetensors$/.test(n) &&
      !/^\..+\.\d+\.[0-9a-f]+\.tmp$/.test(n),
  );
}
