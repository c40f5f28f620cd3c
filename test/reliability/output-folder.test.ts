import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { CHARLM, charlm, type CliResult } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { oneSentence, start, TINY } from './run.js';

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, path: corpus } = corpusFile(englishLike(6000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('an output folder that cannot take the run is refused before training starts', () => {
  it.concurrent.each([
    ['a file is where the folder would be', () => corpus, /^charlm: Cannot create the run folder \S+corpus\.txt: a file of that name is in the way; choose another --out\.$/],
    ['a file is where a parent folder would be', () => join(corpus, 'run'), /^charlm: Cannot create the run folder \S+corpus\.txt\/run: part of its path is a file, not a folder; choose another --out\.$/],
  ])('%s', async (_, out, sentence) => {
    const r = await charlm(['train', corpus, ...TINY, '--steps', '2', '--out', out()]);
    expect(r.code).toBe(1);
    // --json: not even the start event was written.
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(sentence);
  });
});

/**
 * A small tmpfs in a private mount namespace (`unshare -m`): it vanishes with
 * the script, so nothing is left mounted whatever happens. Needs root with
 * CAP_SYS_ADMIN, as in CI here; elsewhere these cases are skipped.
 */
const tmpfsWorks = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'charlm-mount-probe-'));
  try {
    return spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0"', probe]).status === 0;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** Runs `script` (sh) with $MNT a fresh tmpfs mounted with `options`, $COPY a folder outside it, and $CHARLM the CLI. */
function inTmpfs(options: string, script: string): Promise<CliResult & { copy: string }> {
  const mnt = mkdtempSync(join(dir, 'mnt-'));
  const copy = mkdtempSync(join(dir, 'copy-'));
  const full = `set -u\nmount -t tmpfs -o ${options} tmpfs "$MNT" || exit 99\n${script}`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-m', 'sh', '-c', full], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MNT: mnt, COPY: copy, NODE: process.execPath, CHARLM, CORPUS: corpus, TINY: TINY.join(' ') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, copy }));
  });
}

describe.skipIf(!tmpfsWorks)('an output folder on a small tmpfs', () => {
  it.concurrent('read-only: refused by the probe write', async () => {
    const r = await inTmpfs('ro,size=64k', '"$NODE" "$CHARLM" train "$CORPUS" $TINY --steps 2 --out "$MNT"');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(/^charlm: Cannot write checkpoints into \S+: the file system is read-only; choose another --out\.$/);
  });

  it.concurrent('full: refused by the probe write, and the folder it made is removed again', async () => {
    const r = await inTmpfs(
      'size=256k',
      `head -c 1M /dev/zero > "$MNT/fill" 2>/dev/null
"$NODE" "$CHARLM" train "$CORPUS" $TINY --steps 2 --out "$MNT/run"
code=$?; ls -A "$MNT" > "$COPY/listing"; exit $code`,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(/^charlm: Cannot write checkpoints into \S+\/run: the disk is full; choose another --out\.$/);
    expect(readFileSync(join(r.copy, 'listing'), 'utf8')).toBe('fill\n');
  });

  it.concurrent('too little room for latest, best and a temp file: refused, naming what is free and what is needed', async () => {
    const r = await inTmpfs('size=256k', `head -c 200k /dev/zero > "$MNT/fill"\n"$NODE" "$CHARLM" train "$CORPUS" $TINY --steps 2 --out "$MNT/run"`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(/^charlm: Cannot train into \S+\/run: its disk has \d+ KB free but this run's checkpoints need about \d+ KB; free some space or choose another --out\.$/);
  });

  it.concurrent('filled by something else during the run: stops with one sentence; latest and best of before load; no temp file or lock left', async () => {
    const r = await inTmpfs(
      'size=2m',
      `"$NODE" "$CHARLM" train "$CORPUS" $TINY --steps 1000000 --eval-every 1 --out "$MNT/run" &
pid=$!
i=0; while [ ! -e "$MNT/run/best.safetensors" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
head -c 4M /dev/zero > "$MNT/fill" 2>/dev/null
wait $pid; code=$?
cp -a "$MNT/run/." "$COPY/"; exit $code`,
    );
    expect(r.code).toBe(1);
    expect(oneSentence(r.stderr)).toMatch(/^charlm: Cannot write \S+\/run\/(latest\.safetensors|best\.safetensors|history\.jsonl): the disk is full\.$/);
    expect(readdirSync(r.copy).sort()).toEqual(['best.safetensors', 'history.jsonl', 'latest.safetensors']);
    for (const name of ['latest.safetensors', 'best.safetensors']) {
      expect((await loadCheckpoint(join(r.copy, name))).params.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('two runs into one folder', () => {
  it('the second is refused naming the first one’s pid, fresh or resumed; the lock goes with Ctrl-C', async () => {
    const out = join(dir, 'shared-run');
    const first = start(['train', corpus, ...TINY, '--steps', '100000', '--eval-every', '3', '--out', out]);
    try {
      await first.until((e) => e.event === 'checkpoint');
      const refusal = new RegExp(
        `^charlm: ${escape(out)} is in use by another charlm run \\(process ${first.pid}, since [^)]+\\); wait for it to finish or stop it, or choose another --out\\.$`,
      );
      const [fresh, resumed] = await Promise.all([
        charlm(['train', corpus, ...TINY, '--steps', '5', '--out', out]),
        charlm(['train', corpus, '--resume', join(out, 'latest.safetensors'), '--steps', '100', '--json']),
      ]);
      for (const r of [fresh, resumed]) {
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(oneSentence(r.stderr)).toMatch(refusal);
      }
      expect(existsSync(join(out, '.charlm.lock'))).toBe(true);
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await first.exit).toBe(130);
    expect(readdirSync(out).sort()).toEqual(['best.safetensors', 'history.jsonl', 'latest.safetensors']);
  });
});
