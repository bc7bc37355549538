// The conversion's inner loops: a task's chunk-major block (elements and byte planes), word-wide
// region copies, the reused inflater, and node:zlib's one-pass zstd frames.
// This file runs without the zstd addon, so makeCompressor("zstd") takes node:zlib's path (Node >= 22.15).
process.env["CONVERT_TO_ZARR_ZSTD_ADDON"] = "0";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { TaskBlock } from "../lib/exec/block.js";
import { product, type DType } from "../lib/model.js";
import { copyOut, stridesOf } from "../lib/source/region.js";
import { inflateInto, reusedInflate } from "../lib/source/inflate.js";
import { hasNativeZstd, makeCompressor } from "../lib/zarr/codecs.js";
import type { ArrayEncoding } from "../lib/zarr/encoding.js";
import { shuffle } from "../lib/zarr/shuffle.js";
import { firstZstdFrame } from "../lib/zarr/zstd-frame.js";

/** Element i of an array of `shape` at `pos`, the slow and obvious way. */
const at = (shape: readonly number[], pos: readonly number[]) => pos.reduce((a, p, i) => a + p * stridesOf(shape)[i]!, 0);
function* positions(count: readonly number[]): Generator<number[]> {
  const n = product(count);
  for (let k = 0; k < n; k++) {
    let r = k;
    yield count.map((_, i) => {
      const s = product(count.slice(i + 1));
      const p = Math.floor(r / s);
      r -= p * s;
      return p;
    });
  }
}

/** The chunk at `coords` as zarr-python stores it: the array's values, padded with `fill`, C order. */
function referenceChunk(values: Float32Array | Uint16Array, shape: number[], chunks: number[], coords: number[], fill: number): Uint8Array {
  const out = new (values.constructor as Float32ArrayConstructor)(product(chunks)).fill(fill);
  for (const p of positions(chunks)) {
    const g = p.map((x, i) => coords[i]! * chunks[i]! + x);
    if (g.every((x, i) => x < shape[i]!)) out[at(chunks, p)] = values[at(shape, g)]!;
  }
  return new Uint8Array(out.buffer);
}

function encoding(dtype: DType, shape: number[], chunks: number[], fill: number | null): ArrayEncoding {
  return { dtype, shape, chunks, fill } as unknown as ArrayEncoding;
}

describe("a task's chunk-major block", () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((nd) => fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: nd, maxLength: nd }),
    chunks: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: nd, maxLength: nd }),
    source: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: nd, maxLength: nd }),
    wide: fc.boolean(),
    shared: fc.boolean(),
  }));

  test("elements or byte planes, from element reads or from shuffled source chunks: every stored chunk is the reference chunk's bytes (shuffled when planar), also as another thread sees a shared block", () => {
    // One spare for every run, as a thread's encode slots outlive tasks: it meets other types and sizes.
    const spare = {};
    fc.assert(fc.property(arb, ({ shape, chunks, source, wide, shared }) => {
      const dtype: DType = wide ? "float32" : "uint16";
      const es = wide ? 4 : 2;
      const n = product(shape);
      const values = wide ? Float32Array.from({ length: n }, (_, i) => i * 1.5 - 7) : Uint16Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 20);
      const fill = 3;
      const e = encoding(dtype, shape, chunks, fill);
      const whole = shape.map(() => 0);
      for (const planar of [false, true]) for (const fromPlanes of planar ? [false, true] : [false]) {
        const block = new TaskBlock(e, whole, shape, planar, shared ? "shared" : undefined);
        // The source's chunks, each placed as a region (what a task's cells are).
        for (const sc of positions(shape.map((s, i) => Math.ceil(s / source[i]!)))) {
          const start = sc.map((c, i) => c * source[i]!), count = start.map((s, i) => Math.min(source[i]!, shape[i]! - s));
          const region = new (values.constructor as Float32ArrayConstructor)(product(count));
          copyOut(region, count, count.map(() => 0), values, shape, start, count);
          if (fromPlanes) {
            // A source chunk stored whole (padded to its full shape), as HDF5 does, then shuffled.
            const full = new (values.constructor as Float32ArrayConstructor)(product(source));
            copyOut(full, source, count.map(() => 0), region, count, count.map(() => 0), count);
            const planes = shuffle(new Uint8Array(full.buffer), es, new Uint8Array(full.byteLength));
            block.placePlanes({ planes, chunk: source, at: count.map(() => 0) }, start, count);
          } else block.placeElements(region, count, start, start, count);
        }
        // What another thread builds over the same shared memory.
        const seen = shared ? new TaskBlock(e, whole, shape, planar, block.buffer as SharedArrayBuffer) : block;
        assert.equal(seen.buffer instanceof SharedArrayBuffer, shared);
        for (const seg of seen.segments) {
          const stored = seen.storedChunk(seg, spare) as Uint8Array;
          const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
          const ref = referenceChunk(values, shape, chunks, seg.coords, fill);
          assert.deepEqual(bytes, planar ? shuffle(ref, es, new Uint8Array(ref.length)) : ref, `chunk ${seg.coords} planar=${planar} fromPlanes=${fromPlanes}`);
          assert.equal(seen.allFill(seg), false);
        }
      }
    }), { numRuns: 60 });
  });

  test("a chunk of nothing but the fill value is recognised in either layout; without a fill value nothing is", () => {
    for (const planar of [false, true]) {
      const e = encoding("float32", [4, 6], [4, 4], 2.5);
      const block = new TaskBlock(e, [0, 0], [4, 6], planar);
      const data = new Float32Array(24).fill(2.5);
      data[1] = 1; // row 0, column 1: in the first chunk only
      block.placeElements(data, [4, 6], [0, 0], [0, 0], [4, 6]);
      assert.deepEqual(block.segments.map((s) => block.allFill(s)), [false, true], `planar=${planar}`);
      const none = new TaskBlock(encoding("float32", [4, 6], [4, 4], null), [0, 0], [4, 6], planar);
      assert.deepEqual(none.segments.map((s) => none.allFill(s)), [false, false]);
    }
  });

  test("a block is only ever given the shared memory of the same block", () => {
    const e = encoding("float32", [8, 6], [4, 6], 0);
    assert.throws(() => new TaskBlock(e, [0, 0], [8, 6], false, new SharedArrayBuffer(100)), /block of 192 bytes given a buffer of 100/);
  });

  test("an element segment holding a region contiguously is offered to the reader to decode into", () => {
    const block = new TaskBlock(encoding("float32", [8, 6], [4, 6], 0), [0, 0], [8, 6], false);
    const into = block.intoFor([4, 0], [2, 6])!;
    assert.equal(into.byteLength, 2 * 6 * 4);
    assert.equal(into.byteOffset, (4 * 6 + 0) * 4, "second chunk, first row");
    assert.equal(block.intoFor([2, 0], [4, 6]), undefined, "spans two chunks");
    assert.equal(block.intoFor([0, 1], [2, 3]), undefined, "not contiguous");
    assert.equal(new TaskBlock(encoding("float32", [8, 6], [4, 6], 0), [0, 0], [8, 6], true).intoFor([4, 0], [2, 6]), undefined, "planar");
  });
});

describe("region copies in words", () => {
  test("copies between byte arrays at any offsets and alignments equal a byte-by-byte copy", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }).chain((nd) => fc.record({
        src: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: nd, maxLength: nd }),
        out: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: nd, maxLength: nd }),
        skew: fc.integer({ min: 0, max: 3 }),
        seed: fc.nat(),
      })),
      ({ src, out, skew, seed }) => {
        const count = src.map((s, i) => Math.max(1, Math.min(s, out[i]!) - (seed >> i) % 2));
        const start = src.map((s, i) => (seed >> (i + 3)) % (s - count[i]! + 1));
        const to = out.map((o, i) => (seed >> (i + 7)) % (o - count[i]! + 1));
        const srcBuf = new Uint8Array(product(src) + skew).map((_, i) => (i * 37 + seed) & 255);
        const s = srcBuf.subarray(skew);
        const got = new Uint8Array(product(out)), want = new Uint8Array(product(out));
        copyOut(got, out, to, s, src, start, count);
        for (const p of positions(count)) want[at(out, p.map((x, i) => x + to[i]!))] = s[at(src, p.map((x, i) => x + start[i]!))]!;
        assert.deepEqual(got, want);
      },
    ), { numRuns: 200 });
  });
});

describe("inflating into a reused buffer", () => {
  const raw = Buffer.from(Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 11)) & 255));
  const z = zlib.deflateSync(raw);

  test("available on this Node (else every source chunk costs a fresh buffer)", () => {
    assert.equal(reusedInflate, true);
  });

  test("complete streams inflate to the same bytes as zlib.inflateSync, again and again", () => {
    for (let k = 0; k < 3; k++) assert.deepEqual(Buffer.from(inflateInto(z, raw.length)!), raw);
  });

  test("a cut, corrupt or differently sized stream gives undefined, and the next good one still inflates", () => {
    assert.equal(inflateInto(z.subarray(0, z.length - 4), raw.length), undefined, "cut before its checksum");
    assert.equal(inflateInto(z.subarray(0, z.length >> 1), raw.length), undefined, "cut in half");
    const bad = Buffer.from(z);
    bad[z.length >> 1] ^= 0xff;
    assert.equal(inflateInto(bad, raw.length), undefined, "corrupt");
    assert.equal(inflateInto(z, raw.length - 1), undefined, "longer than expected");
    assert.equal(inflateInto(z, raw.length + 1), undefined, "shorter than expected");
    assert.deepEqual(Buffer.from(inflateInto(z, raw.length)!), raw);
  });
});

describe("zstd frames", () => {
  // Hand-made frames: magic, frame header descriptor, optional fields, then blocks (3-byte headers).
  const magic = [0x28, 0xb5, 0x2f, 0xfd];
  const block = (last: number, type: number, size: number, body: number[]) => {
    const h = last | (type << 1) | (size << 3);
    return [h & 255, (h >> 8) & 255, (h >> 16) & 255, ...body];
  };

  test("the first frame's extent: raw and RLE blocks, window and dictionary fields, checksum", () => {
    // Single segment, 1-byte content size 5, a raw block of 2 then an RLE block of 3 ('x'), no checksum.
    const a = [...magic, 0x20, 5, ...block(0, 0, 2, [1, 2]), ...block(1, 1, 3, [0x78])];
    assert.equal(firstZstdFrame(new Uint8Array([...a, ...a]))!.length, a.length);
    // Window descriptor, 1-byte dictionary id, checksum.
    const b = [...magic, 0x05, 0x58, 7, ...block(1, 0, 1, [9]), 1, 2, 3, 4];
    assert.equal(firstZstdFrame(new Uint8Array([...b, 0, 0]))!.length, b.length);
    assert.equal(firstZstdFrame(new Uint8Array(b.slice(0, -1))), undefined, "checksum cut");
    assert.equal(firstZstdFrame(new Uint8Array([0, ...a])), undefined, "not a frame");
    assert.equal(firstZstdFrame(new Uint8Array([...magic, 0x20, 5, ...block(1, 3, 0, [])])), undefined, "reserved block type");
  });

  test("node:zlib's one-pass encoding is the one-shot frame, byte for byte, without the closing empty frame", { skip: !hasNativeZstd && "Node < 22.15 has no zstd in node:zlib" }, async () => {
    const zstd = await makeCompressor("zstd", 3);
    const c = zlib.constants as unknown as Record<string, number>;
    const sync = (zlib as unknown as { zstdCompressSync(b: Uint8Array, o: object): Buffer }).zstdCompressSync;
    for (const n of [0, 1, 1000, 3_000_000]) {
      const raw = Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 9)) & 255);
      const want = sync(raw, { params: { [c["ZSTD_c_compressionLevel"]!]: 3, [c["ZSTD_c_contentSizeFlag"]!]: 1 }, pledgedSrcSize: n });
      assert.deepEqual(Buffer.from(await zstd.encode(raw)), want, `${n} bytes`);
    }
  });
});
