import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/checkpoint/atomic.js';
import { CheckpointFiles, type Evaluated } from '../../src/checkpoint/retention.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'charlm-retention-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Just enough of a checkpoint for the retention to read its step: a safetensors header whose progress names it. */
function fakeCheckpoint(step: number): Buffer {
  const header = Buffer.from(JSON.stringify({ __metadata__: { progress: JSON.stringify({ step }) } }));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, header]);
}
const stepIn = (name: string): number => {
  const b = readFileSync(join(dir, name));
  return (JSON.parse((JSON.parse(b.subarray(8).toString()) as { __metadata__: { progress: string } }).__metadata__.progress) as { step: number }).step;
};
const listing = (): string[] => readdirSync(dir).sort();

/** Runs evaluations at `losses` (step 100, 200, …) the way the trainer saves: latest every time, best when it improves. */
async function run(files: CheckpointFiles, losses: number[], evals: Evaluated[] = []): Promise<Evaluated[]> {
  let best = Math.min(Infinity, ...evals.map((e) => e.valLoss));
  for (const loss of losses) {
    const step = (evals.length + 1) * 100;
    evals.push({ step, valLoss: loss });
    const write = (path: string): Promise<void> => writeFileAtomic(path, fakeCheckpoint(step));
    await files.save('latest', step, write, evals);
    if (loss < best) {
      best = loss;
      await files.save('best', step, write, evals);
    }
  }
  return evals;
}

describe('checkpoint retention', () => {
  it('by default keeps only latest and best', async () => {
    await run(await CheckpointFiles.open(dir, { keepLast: 1, keepBest: 1 }), [3, 2, 2.5, 1, 1.5]);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors']);
    expect([stepIn('latest.safetensors'), stepIn('best.safetensors')]).toEqual([500, 400]);
  });

  it('--keep-last 3 keeps the two saves before latest under their step names', async () => {
    await run(await CheckpointFiles.open(dir, { keepLast: 3, keepBest: 1 }), [3, 2, 2.5, 1, 1.5, 1.2]);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000400.safetensors', 'step-000500.safetensors']);
    expect(stepIn('step-000400.safetensors')).toBe(400);
    expect(stepIn('step-000500.safetensors')).toBe(500);
  });

  it('--keep-best 3 keeps the two runners-up to best by validation loss, whenever they were saved', async () => {
    await run(await CheckpointFiles.open(dir, { keepLast: 1, keepBest: 3 }), [3, 1.1, 2.5, 1, 1.5, 1.2, 4]);
    // Best is step 400 (1.0); the runners-up are 200 (1.1) and 600 (1.2).
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000200.safetensors', 'step-000600.safetensors']);
    expect([stepIn('best.safetensors'), stepIn('latest.safetensors')]).toEqual([400, 700]);
  });

  it('a resumed run finds latest and best by their headers and goes on keeping the same files', async () => {
    const evals = await run(await CheckpointFiles.open(dir, { keepLast: 2, keepBest: 1 }), [3, 2]);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000100.safetensors']);
    await run(await CheckpointFiles.open(dir, { keepLast: 2, keepBest: 1 }), [2.5], evals);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000200.safetensors']);
    expect([stepIn('latest.safetensors'), stepIn('best.safetensors'), stepIn('step-000200.safetensors')]).toEqual([300, 200, 200]);
  });

  it('leaves step files ahead of latest alone (a resume from an older checkpoint), and applies the policy behind it', async () => {
    await run(await CheckpointFiles.open(dir, { keepLast: 3, keepBest: 1 }), [3, 2, 1]);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000100.safetensors', 'step-000200.safetensors']);
    const files = await CheckpointFiles.open(dir, { keepLast: 1, keepBest: 1 });
    await files.save('latest', 150, (p) => writeFileAtomic(p, fakeCheckpoint(150)), []);
    expect(listing()).toEqual(['best.safetensors', 'latest.safetensors', 'step-000200.safetensors']);
  });
});
