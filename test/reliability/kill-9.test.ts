import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { Rng } from '../../src/model/rng.js';
import { parseProgress } from '../../src/train/progress.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { SAVE_HEAVY, SaveKiller, events, start, unexpectedFiles } from './run.js';

const KILLS = 10;

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, path: corpus } = corpusFile(englishLike(20000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kill -9 at random moments of a run that saves after every step', () => {
  it(`leaves latest and best loadable after each of ${KILLS} kills, no partial file under a checkpoint name, and the next run cleans up`, async () => {
    const out = join(dir, 'run');
    const latest = join(out, 'latest.safetensors');
    const best = join(out, 'best.safetensors');
    const rng = Rng.seeded(Number(process.env.CHARLM_KILL_SEED ?? 6));
    let lastStep = 0;
    let tempsLeft = 0;
    let midSave = 0;
    const killer = new SaveKiller(rng);
    for (let kill = 0; kill < KILLS; kill++) {
      const from = existsSync(latest) ? ['--resume', latest] : ['--out', out];
      const run = start(['train', corpus, ...SAVE_HEAVY, '--steps', '1000000', '--eval-every', '1', ...from]);
      // An eval event is written just before latest (and perhaps best) is saved.
      const evals = 1 + Math.floor(rng.uniform() * 3);
      expect(await killer.kill(run, evals)).toBe('SIGKILL');
      const seen = run.events;
      // Killed after an eval whose checkpoint (or the best one after it) was never reported: inside a save.
      const last = seen[seen.length - 1];
      if (last.event === 'eval' || (last.event === 'checkpoint' && last.kind === 'latest' && seen[seen.length - 2]?.best === true)) midSave++;

      expect(unexpectedFiles(out), `after kill ${kill + 1}`).toEqual([]);
      const temps = readdirSync(out).filter((n) => n.endsWith('.tmp'));
      // Temp files of earlier kills were removed when this run started; only the one just killed can have left any.
      for (const t of temps) expect(t, `after kill ${kill + 1}`).toMatch(new RegExp(`\\.${run.pid}\\.[0-9a-f]+\\.tmp$`));
      tempsLeft += temps.length;
      for (const file of [latest, best]) {
        if (!existsSync(file)) continue;
        const c = await loadCheckpoint(file);
        expect(c.params.every(Number.isFinite)).toBe(true);
        if (file === latest) {
          const step = parseProgress(c.progress, file).step;
          expect(step).toBeGreaterThanOrEqual(lastStep);
          lastStep = step;
        }
      }
    }
    expect(lastStep, 'the runs made progress between kills').toBeGreaterThan(0);
    console.info(`kill -9 loop: ${KILLS} kills, ${midSave} inside a save by the events, ${tempsLeft} of them left a temp file; latest at step ${lastStep}`);

    // The lock of the last killed run is stale: the next run takes the folder, finishes, and leaves only checkpoints.
    const final = await charlm(['train', corpus, '--resume', latest, '--steps', String(lastStep + 2), '--json']);
    expect(final.code, final.stderr).toBe(0);
    expect(events(final.stdout)[0]).toMatchObject({ event: 'start', step: lastStep });
    expect(readdirSync(out).sort()).toEqual(['best.safetensors', 'history.jsonl', 'latest.safetensors']);
  });
});
