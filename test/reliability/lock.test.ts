import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/errors.js';
import { LOCK_FILE, lockRunFolder } from '../../src/checkpoint/lock.js';

// The lock through the real CLI (refusal naming the pid, release on Ctrl-C, on errors and after SIGKILL) is in
// output-folder.test.ts, ctrl-c.test.ts and kill-9.test.ts; these are the holder cases a CLI test cannot stage.

let root: string;
let dir: string;
let sleeper: ChildProcess;
/** A pid that has exited, so nothing answers to it. */
let deadPid: number;

const startTime = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};
const hasProc = existsSync('/proc/self/stat');

function holder(fields: Record<string, unknown>): void {
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify({ host: hostname(), start: null, since: '2026-01-01T00:00:00.000Z', ...fields })}\n`);
}

async function refusal(): Promise<string> {
  const error = await lockRunFolder(dir).then(
    (lock) => {
      lock.release();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return (error as Error).message;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'charlm-lock-'));
  sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  deadPid = spawnSync('true').pid as number;
});
afterAll(() => {
  sleeper.kill();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
beforeEach(() => {
  dir = join(root, `run-${n++}`);
  mkdirSync(dir);
});

describe('the run-folder lock', () => {
  it('refuses while the holder runs, naming its pid', async () => {
    holder({ pid: sleeper.pid, start: hasProc ? startTime(sleeper.pid as number) : null });
    expect(await refusal()).toBe(
      `${dir} is in use by another charlm run (process ${sleeper.pid}, since 2026-01-01T00:00:00.000Z); wait for it to finish or stop it, or choose another --out.`,
    );
  });

  it('refuses a holder on another machine, which it cannot check, and says how to clear a stale one', async () => {
    holder({ pid: deadPid, host: 'elsewhere' });
    expect(await refusal()).toBe(
      `${dir} is in use by another charlm run (process ${deadPid} on elsewhere, since 2026-01-01T00:00:00.000Z); if that run has ended, delete ${join(dir, LOCK_FILE)}; otherwise choose another --out.`,
    );
  });

  it.each([
    ['a holder that is gone (kill -9)', () => holder({ pid: deadPid })],
    ['a pid now used by another process (its start time differs)', () => holder({ pid: sleeper.pid, start: '1' })],
    ['its own pid (a container restarted with the same pids)', () => holder({ pid: process.pid })],
    ['a lock file nobody can be named in', () => writeFileSync(join(dir, LOCK_FILE), 'garbage')],
  ])('takes over from %s and releases cleanly', async (_, stage) => {
    stage();
    const lock = await lockRunFolder(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes temp files of dead processes, keeps those of live ones', async () => {
    holder({ pid: deadPid });
    const dead = [`.latest.safetensors.${deadPid}.0123456789ab.tmp`, `.charlm-probe.${deadPid}.0123456789ab.tmp`];
    const live = `.best.safetensors.${sleeper.pid}.0123456789ab.tmp`;
    for (const name of [...dead, live, 'latest.safetensors']) writeFileSync(join(dir, name), 'x');
    const lock = await lockRunFolder(dir);
    expect(readdirSync(dir).sort()).toEqual([live, LOCK_FILE, 'latest.safetensors'].sort());
    lock.release();
  });

  it('removes a folder it created if the run wrote nothing into it, and keeps one with a checkpoint', async () => {
    const empty = join(dir, 'new', 'run');
    (await lockRunFolder(empty)).release();
    expect(existsSync(empty)).toBe(false);
    const used = join(dir, 'used');
    const lock = await lockRunFolder(used);
    writeFileSync(join(used, 'latest.safetensors'), 'x');
    lock.release();
    expect(readdirSync(used)).toEqual(['latest.safetensors']);
  });

  it.skipIf(!hasProc)('never removes a lock that is not its own', async () => {
    const lock = await lockRunFolder(dir);
    holder({ pid: sleeper.pid, start: startTime(sleeper.pid as number) });
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: sleeper.pid });
  });
});
