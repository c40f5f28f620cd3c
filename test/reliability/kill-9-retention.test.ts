import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { Rng } from '../../src/model/rng.js';
import { parseProgress } from '../../src/train/progress.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { SAVE_HEAVY, SaveKiller, events, start, unexpectedFiles } from './run.js';

const KEEP = ['--keep-last', '2', '--keep-best', '1'];
const KILLS = 8;

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, path: corpus } = corpusFile(englishLike(20000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const checkpoints = (out: string): string[] => readdirSync(out).filter((n) => n.endsWith('.safetensors') && !n.startsWith('.')).sort();

describe('kill -9 during the saves of a run with --keep-last 2 --keep-best 1', () => {
  it(`never leaves fewer than the 3 checkpoints the policy keeps, each loading, over ${KILLS} kills; a finished run leaves exactly 3 and a history of every step once`, async () => {
    const out = join(dir, 'run');
    const latest = join(out, 'latest.safetensors');
    const rng = Rng.seeded(Number(process.env.CHARLM_KILL_SEED ?? 11));
    const killer = new SaveKiller(rng);
    let lastStep = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const from = kill === 0 ? ['--out', out] : ['--resume', latest];
      const run = start(['train', corpus, ...SAVE_HEAVY, ...KEEP, '--steps', '1000000', '--eval-every', '1', ...from]);
      // The first run must have finished two saves (latest, then latest again) before the policy holds 3 files; later runs start with them.
      const evals = (kill === 0 ? 3 : 1) + Math.floor(rng.uniform() * 3);
      expect(await killer.kill(run, evals)).toBe('SIGKILL');

      expect(unexpectedFiles(out), `after kill ${kill + 1}`).toEqual([]);
      const names = checkpoints(out);
      expect(names.length, `after kill ${kill + 1}: ${names.join(', ')}`).toBeGreaterThanOrEqual(3);
      for (const name of names) {
        const c = await loadCheckpoint(join(out, name));
        expect(c.params.every(Number.isFinite)).toBe(true);
        const step = parseProgress(c.progress, name).step;
        if (name === 'latest.safetensors') {
          expect(step).toBeGreaterThanOrEqual(lastStep);
          lastStep = step;
        }
        // A step file holds the step its name says.
        if (name.startsWith('step-')) expect(step).toBe(Number(name.slice(5, -12)));
      }
    }

    const final = await charlm(['train', corpus, ...SAVE_HEAVY, ...KEEP, '--eval-every', '1', '--resume', latest, '--steps', String(lastStep + 3)]);
    expect(final.code, final.stderr).toBe(0);
    expect(events(final.stdout)[0]).toMatchObject({ event: 'start', step: lastStep });
    // Each kill could tear the history's last line and left steps past the last save; every resume cut both off.
    const lines = readFileSync(join(out, 'history.jsonl'), 'utf8').trimEnd().split('\n');
    const steps = lines.map((l) => JSON.parse(l) as { event: string; step: number }).filter((e) => e.event === 'step').map((e) => e.step);
    expect(steps).toEqual(Array.from({ length: lastStep + 3 }, (_, i) => i + 1));
    const names = checkpoints(out);
    expect(names).toHaveLength(3);
    expect(names).toEqual(expect.arrayContaining(['best.safetensors', 'latest.safetensors', `step-${String(lastStep + 2).padStart(6, '0')}.safetensors`]));
  });
});
