import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const TINY = ['--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '10', '--sample-every', '10', '--sample-length', '30', '--backend', 'cpu'];
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b/;

/** Without tmux too: stdout a pipe and stdin /dev/null, as in CI and in `charlm … | cat`. */
describe('charlm without a terminal', () => {
  let dir: string;
  beforeAll(() => {
    dir = corpusFile(englishLike(6000)).dir;
  });

  it('train prints plain progress lines (no Ink, no raw-mode error) and exits 0', async () => {
    const r = await charlm(['train', join(dir, 'corpus.txt'), ...TINY, '--steps', '20', '--out', join(dir, 'run')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^charlm: training lstm/);
    expect(r.stdout).toMatch(/^step 10\/20 \| epoch/m);
    expect(r.stdout).toMatch(/^sample at step 10/m);
    expect(r.stdout).toMatch(/^done at step 20/m);
    expect(r.stdout).not.toMatch(ESCAPE);
  });

  it('sample prints plain text and exits 0', async () => {
    const r = await charlm(['sample', join(dir, 'run', 'latest.safetensors'), '--length', '40', '--prime', 'The ', '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('The ')).toBe(true);
    expect([...r.stdout.trimEnd()].length).toBeGreaterThan(30);
    expect(r.stdout).not.toMatch(ESCAPE);
  });
});
