import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { parseProgress } from '../../src/train/progress.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { events, start, TINY } from './run.js';

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, path: corpus } = corpusFile(englishLike(6000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C during training', () => {
  it('saves latest at the step reached, exits 130, frees the folder, and --resume continues from that step', async () => {
    const out = join(dir, 'run');
    const latest = join(out, 'latest.safetensors');
    // No evaluation before the interrupt: the only checkpoint can come from Ctrl-C itself.
    const run = start(['train', corpus, ...TINY, '--steps', '100000', '--eval-every', '100000', '--out', out]);
    await run.until((e) => e.event === 'step' && (e.step as number) >= 3);
    run.child.kill('SIGINT');
    expect(await run.exit, run.stderr()).toBe(130);

    const done = run.events[run.events.length - 1];
    expect(done).toMatchObject({ event: 'done', stopped: true, checkpoint: latest });
    const stoppedAt = done.step as number;
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    expect(run.events.filter((e) => e.event === 'checkpoint')).toMatchObject([{ event: 'checkpoint', step: stoppedAt, kind: 'latest', path: latest }]);
    const saved = await loadCheckpoint(latest);
    expect(parseProgress(saved.progress, latest).step).toBe(stoppedAt);
    expect(existsSync(join(out, '.charlm.lock'))).toBe(false);

    const resumed = await charlm(['train', corpus, '--resume', latest, '--steps', String(stoppedAt + 2), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const ev = events(resumed.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', step: stoppedAt, resumedFrom: latest });
    expect(ev.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([stoppedAt + 1, stoppedAt + 2]);
    expect(ev[ev.length - 1]).toMatchObject({ event: 'done', step: stoppedAt + 2, stopped: false });
    expect(existsSync(join(out, '.charlm.lock'))).toBe(false);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s stops a run like Ctrl-C: latest at the step reached, exit %i, the folder freed', async (signal, status) => {
    const out = join(dir, `run-${signal}`);
    const latest = join(out, 'latest.safetensors');
    const run = start(['train', corpus, ...TINY, '--steps', '100000', '--eval-every', '100000', '--out', out]);
    await run.until((e) => e.event === 'step' && (e.step as number) >= 3);
    run.child.kill(signal);
    expect(await run.exit, run.stderr()).toBe(status);
    const done = run.events[run.events.length - 1];
    expect(done).toMatchObject({ event: 'done', stopped: true, checkpoint: latest });
    expect(parseProgress((await loadCheckpoint(latest)).progress, latest).step).toBe(done.step);
    expect(existsSync(join(out, '.charlm.lock'))).toBe(false);
  });
});
