// A small WebAssembly binary writer: exactly the instructions the GEMM module
// uses, each method named after its WAT mnemonic (`i32Add` is `i32.add`,
// `f32x4Mul` is `f32x4.mul`), so generator code reads like the text format.
//
// Why not WAT text assembled by the `wabt` npm package: wabt.js is a 5.5 MB
// emscripten build whose load alone took 150–180 ms here (plus ~15 ms per
// assemble), in every process and worker that would need it; this writer builds
// the whole module in about a millisecond and adds no dependency. The price is
// that a wrong opcode shows up as a WebAssembly.CompileError instead of a wabt
// parse error, which the tests catch immediately.

export type ValType = 'i32' | 'f32' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

/** A function body under construction. Locals are numbered after the parameters. */
export class FunctionBuilder {
  readonly code: number[] = [];
  /** Declared locals after the parameters, in order. */
  readonly localTypes: ValType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
    readonly exported: boolean,
  ) {}

  /** Parameter `i` as a local index. */
  param(i: number): number {
    return i;
  }

  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }

  private memarg(alignLog2: number, offset: number): this {
    uleb(this.code, alignLog2);
    uleb(this.code, offset);
    return this;
  }

  // control
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.op(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.op(0x0d); uleb(this.code, depth); return this; }
  return(): this { return this.op(0x0f); }
  call(index: number): this { this.op(0x10); uleb(this.code, index); return this; }
  drop(): this { return this.op(0x1a); }
  select(): this { return this.op(0x1b); }

  // locals
  localGet(i: number): this { this.op(0x20); uleb(this.code, i); return this; }
  localSet(i: number): this { this.op(0x21); uleb(this.code, i); return this; }
  localTee(i: number): this { this.op(0x22); uleb(this.code, i); return this; }

  // i32
  i32Const(v: number): this { this.op(0x41); sleb(this.code, v); return this; }
  i32Load(offset = 0): this { return this.op(0x28).memarg(2, offset); }
  /** i32.atomic.load (memory must be shared). */
  i32AtomicLoad(offset = 0): this { this.code.push(0xfe); uleb(this.code, 0x10); return this.memarg(2, offset); }
  /** i32.atomic.rmw.cmpxchg: (address, expected, replacement) → the old value; stores only if it was `expected`. */
  i32AtomicCmpxchg(offset = 0): this { this.code.push(0xfe); uleb(this.code, 0x48); return this.memarg(2, offset); }
  /** i32.atomic.rmw.add: adds to the i32 at the address and leaves its old value (memory must be shared). */
  i32AtomicRmwAdd(offset = 0): this { this.code.push(0xfe); uleb(this.code, 0x1e); return this.memarg(2, offset); }
  /** i64.load / i64.store: only used to move two floats at once. */
  i64Load(offset = 0): this { return this.op(0x29).memarg(2, offset); }
  i64Store(offset = 0): this { return this.op(0x37).memarg(2, offset); }
  i32Eqz(): this { return this.op(0x45); }
  i32Eq(): this { return this.op(0x46); }
  i32Ne(): this { return this.op(0x47); }
  i32LtS(): this { return this.op(0x48); }
  i32LtU(): this { return this.op(0x49); }
  i32GtS(): this { return this.op(0x4a); }
  i32LeS(): this { return this.op(0x4c); }
  i32GeS(): this { return this.op(0x4e); }
  i32GeU(): this { return this.op(0x4f); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32DivU(): this { return this.op(0x6e); }
  i32And(): this { return this.op(0x71); }
  i32Shl(): this { return this.op(0x74); }
  i32ShrU(): this { return this.op(0x76); }
  i32Or(): this { return this.op(0x72); }

  // f32 (scalar edges)
  f32Load(offset = 0): this { return this.op(0x2a).memarg(2, offset); }
  f32Store(offset = 0): this { return this.op(0x38).memarg(2, offset); }
  f32Const0(): this { return this.op(0x43, 0, 0, 0, 0); }
  f32Add(): this { return this.op(0x92); }

  // v128 (alignment hints are 4 bytes: operands are only float-aligned in general)
  v128Load(offset = 0): this { return this.simd(0x00).memarg(2, offset); }
  v128Load32Splat(offset = 0): this { return this.simd(0x09).memarg(2, offset); }
  v128Store(offset = 0): this { return this.simd(0x0b).memarg(2, offset); }
  v128Const0(): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.code.push(0); return this; }
  /** i8x16.shuffle of two vectors, given as four f32 lanes (0–3: first operand, 4–7: second). */
  f32x4Shuffle(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0d);
    for (const l of lanes) for (let b = 0; b < 4; b++) this.code.push(l * 4 + b);
    return this;
  }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
}

export interface MemoryImport {
  readonly module: string;
  readonly field: string;
  readonly minPages: number;
  readonly maxPages: number;
  readonly shared: boolean;
}

/** Writes a module: one imported memory, functions, exports of the marked ones. */
export function encodeModule(memory: MemoryImport, functions: readonly FunctionBuilder[]): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, body: number[]): void => {
    out.push(id);
    uleb(out, body.length);
    out.push(...body);
  };

  // One type per function (duplicates are legal and keep indices trivial).
  const types: number[] = [];
  uleb(types, functions.length);
  for (const f of functions) {
    types.push(0x60);
    uleb(types, f.params.length);
    for (const p of f.params) types.push(VALTYPE[p]);
    uleb(types, f.results.length);
    for (const r of f.results) types.push(VALTYPE[r]);
  }
  section(1, types);

  const imports: number[] = [];
  uleb(imports, 1);
  name(imports, memory.module);
  name(imports, memory.field);
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(imports, memory.minPages);
  uleb(imports, memory.maxPages);
  section(2, imports);

  const funcs: number[] = [];
  uleb(funcs, functions.length);
  functions.forEach((_, i) => uleb(funcs, i));
  section(3, funcs);

  const exported = functions.map((f, i) => [f, i] as const).filter(([f]) => f.exported);
  const exports: number[] = [];
  uleb(exports, exported.length);
  for (const [f, i] of exported) {
    name(exports, f.name);
    exports.push(0x00);
    uleb(exports, i);
  }
  section(7, exports);

  const code: number[] = [];
  uleb(code, functions.length);
  for (const f of functions) {
    const body: number[] = [];
    // Run-length groups of equal local types.
    const groups: [number, ValType][] = [];
    for (const t of f.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [n, t] of groups) {
      uleb(body, n);
      body.push(VALTYPE[t]);
    }
    body.push(...f.code, 0x0b);
    uleb(code, body.length);
    code.push(...body);
  }
  section(10, code);
  return Uint8Array.from(out);
}
