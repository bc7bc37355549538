/** The pure pieces, tested like arithmetic. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isConvertError, oneLine, describeError, ConvertError } from "../lib/errors.js";
import type { Variable } from "../lib/model.js";
import { autoChunks, chooseChunks, parseChunkSpec, TARGET_BYTES } from "../lib/plan/chunks.js";
import { contiguousOffset, copyOut, forEachRun } from "../lib/source/region.js";
import { product } from "../lib/model.js";
import { sniffFormat } from "../lib/source/sniff.js";
import { attrToJson, JsonFloat } from "../lib/zarr/attrs.js";
import { codecOfMetadata, encodeVlenUtf8, makeCompressor, withShuffle } from "../lib/zarr/codecs.js";
import { shuffle, unshuffle } from "../lib/zarr/shuffle.js";
import { encodeJson, parseJson } from "../lib/zarr/json.js";

describe("JSON for Zarr metadata", () => {
  test("64-bit integers are written and read exactly", () => {
    const text = encodeJson({ a: 2n ** 63n - 1n, b: [-(2n ** 62n), 5n] });
    assert.equal(text, '{\n  "a": 9223372036854775807,\n  "b": [\n    -4611686018427387904,\n    5\n  ]\n}');
    assert.deepEqual(parseJson(text), { a: 2n ** 63n - 1n, b: [-(2n ** 62n), 5] });
  });
  test("non-finite numbers: strings by default, bare tokens for zarr-python 2 attributes", () => {
    assert.equal(encodeJson([NaN, Infinity, -Infinity]).replace(/\s/g, ""), '["NaN","Infinity","-Infinity"]');
    assert.equal(encodeJson([NaN, -Infinity], "token").replace(/\s/g, ""), "[NaN,-Infinity]");
    const back = parseJson('{"x": NaN, "y": [Infinity, -Infinity], "s": "NaN is text", "f": 0.10000000149011612}') as Record<string, unknown>;
    assert.ok(Number.isNaN(back["x"]));
    assert.deepEqual(back["y"], [Infinity, -Infinity]);
    assert.equal(back["s"], "NaN is text");
    assert.equal(back["f"], 0.10000000149011612, "digits after a decimal point are not an integer");
  });
  test("integral floats keep a decimal point; non-ASCII text is escaped", () => {
    assert.equal(encodeJson({ a: new JsonFloat(1e20), b: new JsonFloat(0), c: new JsonFloat(1e300) }).replace(/\s/g, ""),
      '{"a":100000000000000000000.0,"b":0.0,"c":1e+300}');
    assert.equal(encodeJson("µg/m³"), '"\\u00b5g/m\\u00b3"');
    assert.equal(JSON.parse(encodeJson("µg/m³")), "µg/m³");
  });
  test("attributes unwrap length-1 arrays and keep float type", () => {
    assert.equal(attrToJson("char", "text"), "text");
    assert.deepEqual(attrToJson("int32", [1, 2]), [1, 2]);
    assert.equal(attrToJson("int16", [7]), 7);
    assert.ok(attrToJson("float32", [300]) instanceof JsonFloat);
    assert.equal(attrToJson("float64", [0.5]), 0.5);
    assert.deepEqual(attrToJson("string", ["a", "b"]), ["a", "b"]);
  });
});

describe("vlen-utf8 encoding (numcodecs layout)", () => {
  test("count, then length-prefixed UTF-8", () => {
    assert.deepEqual([...encodeVlenUtf8(["a", "βc", ""])], [3, 0, 0, 0, 1, 0, 0, 0, 97, 3, 0, 0, 0, 0xce, 0xb2, 99, 0, 0, 0, 0]);
  });
});

const variable = (shape: number[], dims: string[], dtype: Variable["dtype"] = "float32", sourceChunks: number[] | null = null): Variable =>
  ({ name: "v", path: "/v", dtype, dims, shape, attrs: [], sourceChunks, filters: [] });

describe("byte shuffle (numcodecs' Shuffle, HDF5's shuffle filter)", () => {
  test("planes of byte k, whatever the element size, length or alignment; unshuffle inverts it", () => {
    for (const size of [1, 2, 3, 4, 8]) {
      for (const length of [0, 1, 7, 16, 17, 64, 1003]) {
        for (const offset of [0, 1]) {
          const src = new Uint8Array(length + offset).map((_, i) => (i * 37 + 11) & 255).subarray(offset);
          const n = Math.floor(length / size), want = new Uint8Array(length);
          for (let k = 0; k < size; k++) for (let i = 0; i < n; i++) want[k * n + i] = src[i * size + k]!;
          want.set(src.subarray(n * size), n * size);
          const got = shuffle(src, size, new Uint8Array(length + 3));
          assert.deepEqual(Array.from(got), Array.from(want), `size ${size}, length ${length}, offset ${offset}`);
          assert.deepEqual(Array.from(unshuffle(got, size)), Array.from(src));
        }
      }
    }
    // Into a caller's buffer at an offset (a converting task's block).
    const planes = shuffle(new Uint8Array(new Float32Array([1.5, -2, 3e9, 7]).buffer), 4, new Uint8Array(16));
    const block = new Uint8Array(24);
    unshuffle(planes, 4, block.subarray(4, 20));
    assert.deepEqual(Array.from(new Float32Array(block.buffer, 4, 4)), [1.5, -2, 3e9, 7]);
    assert.deepEqual([...block.subarray(0, 4), ...block.subarray(20)], [0, 0, 0, 0, 0, 0, 0, 0]);
    // The 32-bit path on float32 values: byte 3 (sign and exponent) of 1.0 is 0x3f in the last plane.
    const f = new Uint8Array(new Float32Array([1, 1, 1, 1, 2, 2, 2, 2]).buffer);
    assert.deepEqual(Array.from(shuffle(f, 4, new Uint8Array(32)).subarray(24)), [0x3f, 0x3f, 0x3f, 0x3f, 0x40, 0x40, 0x40, 0x40]);
  });

  test("withShuffle writes the filter into both formats' metadata and shuffles before compressing", async () => {
    const none = withShuffle(await makeCompressor("none"), 4);
    assert.deepEqual(none.v2Filters?.(), [{ id: "shuffle", elementsize: 4 }]);
    assert.deepEqual(none.v3(4), [{ name: "numcodecs.shuffle", configuration: { elementsize: 4 } }]);
    const zstd = withShuffle(await makeCompressor("zstd"), 2);
    assert.deepEqual(zstd.v3(2).map((c) => c.name), ["numcodecs.shuffle", "zstd"]);
    assert.deepEqual(zstd.v2(), { id: "zstd", level: 3 });
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(Array.from(await none.encode(bytes)), [1, 5, 2, 6, 3, 7, 4, 8]);
  });

  test("codecOfMetadata reads the shuffle back from v2 filters and v3 codecs, and refuses other filters", () => {
    assert.deepEqual(codecOfMetadata(2, { filters: [{ id: "shuffle", elementsize: 4 }], compressor: { id: "zstd", level: 3 } }), { codec: "zstd", level: 3, shuffle: true });
    assert.deepEqual(codecOfMetadata(2, { filters: null, compressor: { id: "zstd", level: 5 } }), { codec: "zstd", level: 5, shuffle: false });
    assert.deepEqual(codecOfMetadata(2, { filters: [{ id: "vlen-utf8" }], compressor: null }), { codec: "none", level: null, shuffle: false });
    const bytes = { name: "bytes", configuration: { endian: "little" } };
    assert.deepEqual(codecOfMetadata(3, { codecs: [bytes, { name: "numcodecs.shuffle", configuration: { elementsize: 8 } }, { name: "gzip", configuration: { level: 5 } }] }), { codec: "gzip", level: 5, shuffle: true });
    assert.deepEqual(codecOfMetadata(3, { codecs: [bytes, { name: "zstd", configuration: { level: 3 } }] }), { codec: "zstd", level: 3, shuffle: false });
    assert.throws(() => codecOfMetadata(2, { filters: [{ id: "delta" }], compressor: null }), /the store uses the filters delta; appending supports zstd, gzip, blosc and none, optionally after shuffle/);
    assert.throws(() => codecOfMetadata(2, { filters: [{ id: "shuffle" }], compressor: { id: "zlib", level: 4 } }), /the store uses the zlib codec/);
    assert.throws(() => codecOfMetadata(3, { codecs: [bytes, { name: "numcodecs.shuffle" }, { name: "zstd" }, { name: "crc32c" }] }), /the codecs numcodecs.shuffle \+ zstd \+ crc32c/);
  });
});

describe("chunk choice", () => {
  test("--chunks parsing", () => {
    assert.deepEqual(parseChunkSpec("time=1080, lat=90,lon=-1"), { time: 1080, lat: 90, lon: -1 });
    assert.throws(() => parseChunkSpec("time"), /expected dim=n, got "time"/);
    assert.throws(() => parseChunkSpec("time=0"), /time must be a positive size or -1/);
  });
  test("the original sample: 59 daily files of (24, 361, 576) float32", () => {
    const v = variable([1416, 361, 576], ["time", "lat", "lon"], "float32", [24, 361, 576]);
    const c = autoChunks(v, new Set(["time"]));
    assert.deepEqual(c, [6, 361, 576], "20 MiB source chunks halve along time to ≤ 8 MiB");
    assert.ok(c.reduce((a, b) => a * b, 4) <= TARGET_BYTES);
    assert.deepEqual(chooseChunks(v, { time: 1080, lat: 90, lon: 90 }, new Set()), [1080, 90, 90]);
    assert.deepEqual(chooseChunks(v, { lat: -1, time: 5000 }, new Set(["time"])), [6, 361, 576].map((x, i) => (i === 0 ? 1416 : x)));
  });
  test("small contiguous arrays grow to one chunk; record variables start from one record", () => {
    assert.deepEqual(autoChunks(variable([100, 50], ["y", "x"]), new Set()), [100, 50]);
    // one record is 8000 bytes; 8 MiB / 8000 B = 1048 records
    assert.deepEqual(autoChunks(variable([10000, 1000], ["time", "x"], "float64"), new Set(["time"])), [1048, 1000]);
    assert.deepEqual(autoChunks(variable([], []), new Set()), []);
    assert.deepEqual(autoChunks(variable([0, 3], ["t", "x"]), new Set(["t"])), [1, 3], "zero-length dims still get chunk 1");
  });
  test("growth keeps whole multiples of the source chunks", () => {
    const c = autoChunks(variable([365, 180, 360], ["time", "lat", "lon"], "float32", [1, 90, 90]), new Set());
    assert.ok(c.every((n, i) => n % [1, 90, 90][i]! === 0 || n === [365, 180, 360][i]), String(c));
  });
});

describe("region runs", () => {
  const runs = (shape: number[], start: number[], count: number[]) => {
    const out: number[][] = [];
    forEachRun(shape, start, count, (s, d, n) => out.push([s, d, n]));
    return out;
  };
  test("whole trailing axes merge into one run", () => {
    assert.deepEqual(runs([4, 3, 2], [1, 0, 0], [2, 3, 2]), [[6, 0, 12]]);
    assert.deepEqual(runs([4, 3, 2], [0, 1, 0], [2, 2, 2]), [[2, 0, 4], [8, 4, 4]]);
    assert.deepEqual(runs([4, 3, 2], [0, 0, 1], [1, 2, 1]), [[1, 0, 1], [3, 1, 1]]);
    assert.deepEqual(runs([], [], []), [[0, 0, 1]]);
    assert.deepEqual(runs([5], [0], [0]), []);
  });

  test("copyOut moves every element type bit for bit, short rows and long, into an offset window", () => {
    const shape = [3, 5, 300], start = [1, 2, 7], count = [2, 3, 290];
    const pick = (i: number, j: number, k: number) => ((i * 5 + j) * 300 + k);
    for (const make of [
      (n: number) => Uint8Array.from({ length: n }, (_, i) => i * 7),
      (n: number) => Int16Array.from({ length: n }, (_, i) => -i),
      (n: number) => Float32Array.from({ length: n }, (_, i) => i / 3),
      // 64-bit patterns that are NaNs when read as float64 must survive unchanged.
      (n: number) => BigInt64Array.from({ length: n }, (_, i) => 0x7ff0000000000001n + BigInt(i)),
      (n: number) => Float64Array.from({ length: n }, (_, i) => i * 1e-300),
    ]) {
      const src = make(product(shape));
      for (const width of [4, 290]) {
        const c = [count[0]!, count[1]!, width];
        const Ctor = src.constructor as new (n: number) => typeof src;
        const out = new Ctor(2 * 4 * 300);
        copyOut(out, [2, 4, 300], [0, 1, 3], src, shape, start, c);
        for (let i = 0; i < c[0]!; i++) for (let j = 0; j < c[1]!; j++) for (let k = 0; k < width; k++) {
          assert.equal(out[(i * 4 + j + 1) * 300 + k + 3], src[pick(start[0]! + i, start[1]! + j, start[2]! + k)]);
        }
        assert.equal(out[0], new Ctor(1)[0], "outside the window untouched");
      }
    }
  });
});

describe("contiguous regions", () => {
  test("a region is one stretch when, past its outermost axis of more than one index, it spans whole axes", () => {
    const shape = [10, 4, 6];
    assert.equal(contiguousOffset(shape, [2, 0, 0], [3, 4, 6]), 2 * 24, "whole time steps");
    assert.equal(contiguousOffset(shape, [2, 1, 0], [1, 2, 6]), 2 * 24 + 6, "rows of one step");
    assert.equal(contiguousOffset(shape, [2, 1, 3], [1, 1, 2]), 2 * 24 + 6 + 3, "part of one row");
    assert.equal(contiguousOffset(shape, [0, 0, 0], [2, 2, 6]), undefined, "two steps, part of each");
    assert.equal(contiguousOffset(shape, [0, 1, 0], [2, 3, 6]), undefined, "two steps, three of four rows each");
    assert.equal(contiguousOffset(shape, [0, 0, 1], [1, 2, 5]), undefined, "rows not whole");
    assert.equal(contiguousOffset(shape, [0, 0, 0], [0, 4, 6]), undefined, "empty");
    assert.equal(contiguousOffset([], [], []), 0, "a scalar");
  });
});

describe("format sniffing and errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "c2z-unit-"));
  test("magic bytes, including HDF5 after a user block", () => {
    const hdf5 = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    writeFileSync(join(dir, "ub.h5"), Buffer.concat([Buffer.alloc(1024), hdf5, Buffer.alloc(100)]));
    writeFileSync(join(dir, "c5.nc"), Buffer.from("CDF\x05\0\0\0\0\0\0\0\0", "latin1"));
    writeFileSync(join(dir, "c9.nc"), Buffer.from("CDF\x09", "latin1"));
    writeFileSync(join(dir, "misplaced.h5"), Buffer.concat([Buffer.alloc(700), hdf5]));
    assert.equal(sniffFormat(join(dir, "ub.h5")), "NETCDF4");
    assert.equal(sniffFormat(join(dir, "c5.nc")), "NETCDF3_64BIT_DATA");
    assert.throws(() => sniffFormat(join(dir, "c9.nc")), /unknown NetCDF-3 version byte 9/);
    assert.throws(() => sniffFormat(join(dir, "misplaced.h5")), /not a NetCDF or HDF5 file/, "only offsets 0, 512, 1024, … count");
  });
  test("one short line, whatever the error", () => {
    const huge = new Error("x".repeat(5_000_000) + "\nsecond line");
    assert.ok(oneLine(huge).length <= 301);
    assert.equal(describeError(new ConvertError("Corrupt", "bad\nstack", "/f.nc")), "/f.nc: bad");
    assert.equal(describeError(new TypeError("boom")), "internal error: boom");
    assert.ok(isConvertError(new ConvertError("Usage", "u"), "Usage"));
    assert.ok(!isConvertError(new Error("e")));
  });
});
