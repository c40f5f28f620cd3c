/**
 * Reads a --stop value: `\n`, `\t`, `\r` and `\\` stand for a newline, a tab,
 * a carriage return and a backslash, since a shell passes "\n" as two
 * characters. Any other backslash is refused, so a typo cannot quietly become
 * a stop sequence that never matches.
 */
export function parseStop(flag: string): { stop: string } | { error: string } {
  let out = '';
  for (let i = 0; i < flag.length; i++) {
    if (flag[i] !== '\\') {
      out += flag[i];
      continue;
    }
    const next = flag[++i];
    const escaped = next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next === '\\' ? '\\' : undefined;
    if (escaped === undefined) return { error: `has ${next === undefined ? 'a lone \\ at its end' : `the unknown escape \\${next}`}; write \\n, \\t, \\r or \\\\` };
    out += escaped;
  }
  if (out === '') return { error: 'is empty' };
  return { stop: out };
}

/**
 * Streams text that ends at the first stop sequence, the stop sequence itself
 * never written. Text arrives in pieces (one per symbol) and leaves as whole
 * pieces, except the one a match begins in, which is cut there. A piece is
 * held back while the text ending with it could still be the start of a stop
 * sequence (at most the longest stop sequence less one character), so a match
 * split across pieces is caught before any of it is written.
 */
export class StopFilter {
  private held: string[] = [];
  private done = false;

  constructor(private readonly stops: readonly string[]) {}

  /** True once a stop sequence has matched; later pieces are dropped. */
  get stopped(): boolean {
    return this.done;
  }

  /** The pieces that can now be written. */
  push(piece: string): string[] {
    if (this.done) return [];
    this.held.push(piece);
    const text = this.held.join('');
    const match = firstMatch(text, this.stops);
    if (match >= 0) {
      this.done = true;
      return this.release(match, true);
    }
    return this.release(text.length - openPrefix(text, this.stops), false);
  }

  /** What is still held, for when the text ends without a match. */
  flush(): string[] {
    const out = this.held;
    this.held = [];
    return out;
  }

  /** Releases the held pieces that lie within the first `chars` characters; `cut` also releases the part of the piece `chars` falls in. */
  private release(chars: number, cut: boolean): string[] {
    const out: string[] = [];
    let used = 0;
    while (this.held.length > 0 && used + this.held[0].length <= chars) {
      used += this.held[0].length;
      out.push(this.held.shift() as string);
    }
    if (cut) {
      if (used < chars) out.push(this.held[0].slice(0, chars - used));
      this.held = [];
    }
    return out;
  }
}

/**
 * Where the stop sequence that completes first begins, or −1. Completes first:
 * with stops "abc" and "b", text "abc" stops before "b", as a stream would.
 * Ties in where they end go to the one that begins earlier.
 */
export function firstMatch(text: string, stops: readonly string[]): number {
  let start = -1;
  let end = Infinity;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (at + s.length < end || (at + s.length === end && at < start))) {
      start = at;
      end = at + s.length;
    }
  }
  return start;
}

/** Length of the longest end of `text` that is a proper beginning of some stop sequence. */
function openPrefix(text: string, stops: readonly string[]): number {
  const longest = Math.max(0, ...stops.map((s) => s.length - 1));
  for (let k = Math.min(longest, text.length); k > 0; k--) {
    const tail = text.slice(text.length - k);
    if (stops.some((s) => s.length > k && s.startsWith(tail))) return k;
  }
  return 0;
}
