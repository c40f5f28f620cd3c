/**
 * Generated text as screen lines. Ink would wrap a long Text itself, but then
 * the pane's height would depend on the text and the frame could outgrow the
 * terminal; wrapping here lets a pane keep exactly its last `rows` lines.
 */

export interface Run {
  readonly text: string;
  /** Which part of the text it is (e.g. the prime, shown apart from generated text). */
  readonly kind: string;
}

/** Characters a model may emit that would move the cursor or ring the bell: shown, not obeyed. */
function visible(ch: string): string {
  if (ch === '\t') return '  ';
  const cp = ch.codePointAt(0) as number;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return '·';
  return ch;
}

interface Glyph {
  readonly ch: string;
  readonly kind: string;
}

/**
 * Wraps runs of text at `width` cells and at newlines, breaking after the last
 * space when it is in the right half of the line (else mid-word: early samples
 * are rarely words), and returns the last `rows` lines as runs. One cell per
 * character: the corpora this is for have one-column symbols; a wider one is
 * cut by Ink's truncation rather than breaking the layout.
 */
export function tailLines(runs: readonly Run[], width: number, rows: number): Run[][] {
  const w = Math.max(1, width);
  const lines: Glyph[][] = [[]];
  for (const run of runs) {
    for (const raw of run.text) {
      if (raw === '\n') {
        lines.push([]);
        continue;
      }
      for (const ch of visible(raw)) {
        let line = lines[lines.length - 1];
        if (line.length >= w) {
          let space = -1;
          for (let i = line.length - 1; i >= w / 2; i--) {
            if (line[i].ch === ' ') {
              space = i;
              break;
            }
          }
          const carried = space >= 0 ? line.splice(space + 1) : [];
          line = carried;
          lines.push(line);
        }
        line.push({ ch, kind: run.kind });
      }
    }
  }
  return rows > 0 ? lines.slice(-rows).map(toRuns) : [];
}

function toRuns(line: readonly Glyph[]): Run[] {
  const out: Run[] = [];
  for (const g of line) {
    const last = out[out.length - 1];
    if (last && last.kind === g.kind) out[out.length - 1] = { text: last.text + g.ch, kind: g.kind };
    else out.push({ text: g.ch, kind: g.kind });
  }
  return out;
}
