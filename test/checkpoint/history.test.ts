import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_FILE, HistoryWriter, readHistory } from '../../src/checkpoint/history.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'charlm-history-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (step: number, event = 'step'): string => `${JSON.stringify({ event, step, loss: 1 / step })}\n`;

describe('run history', () => {
  it('is created with its first record, one JSON object per line, and read back', async () => {
    const w = await HistoryWriter.open(dir, 0);
    await w.close();
    expect(() => readFileSync(join(dir, HISTORY_FILE))).toThrow(/ENOENT/);
    const w2 = await HistoryWriter.open(dir, 0);
    await w2.append({ event: 'step', step: 1, loss: 2.5 } as { event: string; step: number });
    await w2.append({ event: 'eval', step: 1, valLoss: 2.4 } as { event: string; step: number });
    await w2.close();
    expect(readFileSync(join(dir, HISTORY_FILE), 'utf8')).toBe('{"event":"step","step":1,"loss":2.5}\n{"event":"eval","step":1,"valLoss":2.4}\n');
    expect(await readHistory(join(dir, HISTORY_FILE))).toEqual([
      { event: 'step', step: 1, loss: 2.5 },
      { event: 'eval', step: 1, valLoss: 2.4 },
    ]);
  });

  it('reads past a torn last line (a kill while writing it)', async () => {
    const path = join(dir, HISTORY_FILE);
    writeFileSync(path, line(1) + line(2) + '{"event":"step","st');
    expect((await readHistory(path)).map((r) => r.step)).toEqual([1, 2]);
  });

  it('on resume cuts the torn line and the steps past the checkpoint, then continues the same file', async () => {
    const path = join(dir, HISTORY_FILE);
    writeFileSync(path, line(1) + line(2) + line(2, 'eval') + line(3) + '{"event":"st');
    const w = await HistoryWriter.open(dir, 2);
    await w.append({ event: 'step', step: 3 });
    await w.close();
    expect((await readHistory(path)).map((r) => `${r.event} ${r.step}`)).toEqual(['step 1', 'step 2', 'eval 2', 'step 3']);
    expect(readFileSync(path, 'utf8').endsWith('{"event":"step","step":3}\n')).toBe(true);
  });

  it('refuses a missing history in one sentence', async () => {
    await expect(readHistory(join(dir, HISTORY_FILE))).rejects.toThrow(/^Cannot read the run history .*history\.jsonl: there is no such file\.$/);
  });
});
