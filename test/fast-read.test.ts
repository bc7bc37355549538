/**
 * The fast Zarr reader (lib/zarr/fast-read.ts) against zarrita on the same stores — v2 and v3, zstd
 * with and without byte shuffle and uncompressed, edge chunks, chunks never written — plus what it must refuse, its early stop,
 * and the zstd-napi addon's streaming decoder it rests on.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as zarr from "zarrita";
import { convert } from "../lib/convert.js";
import { FsStore } from "../lib/store/fs.js";
import { RequestMetrics, withMetrics } from "../lib/store/metrics.js";
import { readStoreContents, zarritaView } from "../lib/store/read.js";
import { fastArray } from "../lib/zarr/fast-read.js";
import { shuffle } from "../lib/zarr/shuffle.js";
import "../lib/zarr/read-codecs.js";
import { zstdAddon } from "../lib/zarr/zstd-addon.js";
import { runQuery } from "../lib/bench/queries.js";
import { openZarrDataset } from "../lib/bench/readers.js";
import { CORPUS, CORPUS_MISSING, ROOT, tempDir } from "./helpers.js";
import { BUCKET, startTestS3, type TestS3 } from "./s3-helpers.js";

/** A small seeded generator (mulberry32), so a failing region can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRegion(shape: readonly number[], r: () => number): { start: number[]; count: number[] } {
  const start = shape.map((n) => Math.floor(r() * n));
  return { start, count: start.map((s, i) => 1 + Math.floor(r() * (shape[i]! - s))) };
}

const bytesOf = (a: ArrayLike<unknown> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function zarritaRead(dir: string, rel: string, format: 2 | 3, start: number[], count: number[]) {
  const loc = zarr.root(zarritaView(new FsStore(dir))).resolve(rel);
  const arr = format === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
  const r = await zarr.get(arr, start.map((s, i) => zarr.slice(s, s + count[i]!)));
  return r.data as unknown as Float32Array;
}

describe("fast Zarr reads equal zarrita's", { skip: CORPUS_MISSING }, () => {
  const tmp = tempDir("fast-read");
  after(() => tmp.cleanup());
  const input = () => join(CORPUS, "eraint_uvz.nc");

  const layouts = [
    { codec: "zstd", shuffle: true }, { codec: "zstd", shuffle: false }, { codec: "none", shuffle: false },
  ] as const;
  for (const format of [2, 3] as const) {
    for (const { codec, shuffle } of layouts) {
      const name = `${codec}${shuffle ? "-shuffle" : ""}`;
      test(`Zarr v${format}, ${name}: 40 random regions of every numeric array, one chunk removed`, async () => {
        const out = join(tmp.dir, `v${format}-${name}.zarr`);
        // Small chunks that do not divide the shape: many chunks, edge chunks on every axis.
        await convert([input()], { out, zarrFormat: format, codec, shuffle, overwrite: true, chunks: { month: 1, level: 2, latitude: 100, longitude: 150 } });
        // A chunk never written reads as the fill value.
        const gone = format === 2 ? "u/0.1.0.0" : "u/c/0/1/0/0";
        rmSync(join(out, gone));
        const store = new FsStore(out);
        const contents = await readStoreContents(store);
        const r = rng(format * 10 + (codec === "zstd" ? 1 : 2) + (shuffle ? 5 : 0));
        let fastOnes = 0;
        const shuffled = new Set<number>();
        for (const [rel, node] of contents.nodes) {
          if (node.kind !== "array") continue;
          const fast = fastArray((k) => store.get(k), `/${rel}`, node.meta, format, store.readPieces.bind(store));
          assert.ok(fast, `${rel} (${JSON.stringify(node.meta["dtype"] ?? node.meta["data_type"])}) has a fast reader`);
          fastOnes++;
          // int16 (u, v, z), int32 and float32: planes of 2 and 4 bytes (8 bytes: the test below).
          const planes = format === 2
            ? (node.meta["filters"] as { elementsize: number }[] | null)?.[0]?.elementsize
            : (node.meta["codecs"] as { name: string; configuration?: { elementsize: number } }[]).find((c) => c.name === "numcodecs.shuffle")?.configuration?.elementsize;
          if (shuffle) shuffled.add(planes!);
          else assert.equal(planes, undefined, `${rel} is not shuffled`);
          const shape = (node.meta["shape"] as number[]).map(Number);
          const regions = [{ start: shape.map(() => 0), count: shape }, ...Array.from({ length: 40 }, () => randomRegion(shape, r))];
          for (const { start, count } of regions) {
            const [a, b] = await Promise.all([fast.read(start, count), zarritaRead(out, rel, format, start, count)]);
            assert.ok(bytesOf(a as Float32Array).equals(bytesOf(b)), `${rel} [${start}] + [${count}]`);
          }
        }
        assert.ok(fastOnes >= 6, `${fastOnes} arrays`);
        if (shuffle) assert.deepEqual([...shuffled].sort(), [2, 4], "element sizes shuffled");
      });
    }
  }

  test("a store marked in progress gives no values: the query fails saying so", async () => {
    const out = join(tmp.dir, "v2-zstd.zarr");
    writeFileSync(join(out, ".convert-to-zarr-in-progress"), "{}");
    try {
      const ds = await openZarrDataset(out);
      await assert.rejects(runQuery(ds, { kind: "point", variable: "u", lat: 0, lon: 0 }), /store is incomplete: a conversion is in progress or was interrupted/);
      rmSync(join(out, ".zmetadata"));
      await assert.rejects(openZarrDataset(out), /store is incomplete/, "without its metadata too, the marker is what it says");
    } finally {
      rmSync(join(out, ".convert-to-zarr-in-progress"));
    }
  });

  test("zstd through node:zlib when the addon is switched off (Node ≥ 22.15), or no fast reader at all", () => {
    const out = join(tmp.dir, "v2-zstd-shuffle.zarr");
    const script = `
      import { FsStore } from ${JSON.stringify(join(ROOT, "dist/lib/store/fs.js"))};
      import { fastArray } from ${JSON.stringify(join(ROOT, "dist/lib/zarr/fast-read.js"))};
      import { readFileSync } from "node:fs";
      const store = new FsStore(${JSON.stringify(out)});
      const meta = JSON.parse(readFileSync(${JSON.stringify(join(out, "u/.zarray"))}, "utf8"));
      const fast = fastArray((k) => store.get(k), "/u", meta, 2, store.readPieces.bind(store));
      const a = fast && await fast.read([0, 0, 0, 0], meta.shape);
      console.log(JSON.stringify({ fast: !!fast, sum: a ? a.reduce((x, y) => x + y, 0) : null }));`;
    const run = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, ...env } });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { fast: boolean; sum: number | null };
    };
    const withAddon = run({}), without = run({ CONVERT_TO_ZARR_ZSTD_ADDON: "0" });
    assert.equal(withAddon.fast, true);
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    if (major > 22 || (major === 22 && minor >= 15)) assert.deepEqual(without, withAddon);
    else assert.deepEqual(without, { fast: false, sum: null });
  });
});

const V2 = { shape: [10, 10], chunks: [5, 5], dtype: "<f4", order: "C", filters: null, compressor: { id: "zstd", level: 3 }, fill_value: 0, zarr_format: 2 };

describe("fast Zarr reads: what they refuse", () => {
  const v2 = V2;
  const none = async () => undefined;

  test("layouts outside the fast path get no reader (zarrita reads them)", () => {
    const refused: Record<string, unknown>[] = [
      { ...v2, compressor: { id: "zlib", level: 1 } },
      { ...v2, filters: [{ id: "shuffle", elementsize: 2 }] },
      { ...v2, filters: [{ id: "delta", dtype: "<f4" }] },
      { ...v2, filters: [{ id: "shuffle", elementsize: 4 }, { id: "shuffle", elementsize: 4 }] },
      { ...v2, dtype: ">f4" },
      { ...v2, dtype: "|S1" },
      { ...v2, order: "F" },
      { ...v2, fill_value: "0x7fc00000" },
    ];
    for (const m of refused) assert.equal(fastArray(none, "/a", m, 2), undefined, JSON.stringify(m));
    const v3 = {
      shape: [10], data_type: "float32", chunk_grid: { name: "regular", configuration: { chunk_shape: [5] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: "NaN",
      codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "zstd", configuration: { level: 3, checksum: false } }],
    };
    assert.ok(fastArray(none, "/a", v3, 3));
    assert.ok(fastArray(none, "/a", { ...v2, filters: [{ id: "shuffle", elementsize: 4 }] }, 2), "v2 shuffle over whole elements");
    const [bytes, zstd] = v3.codecs;
    assert.ok(fastArray(none, "/a", { ...v3, codecs: [bytes, { name: "numcodecs.shuffle", configuration: { elementsize: 4 } }, zstd] }, 3), "v3 numcodecs.shuffle");
    assert.equal(fastArray(none, "/a", { ...v3, codecs: [bytes, { name: "numcodecs.shuffle", configuration: { elementsize: 8 } }, zstd] }, 3), undefined);
    assert.equal(fastArray(none, "/a", { ...v3, codecs: [bytes, zstd, { name: "numcodecs.shuffle", configuration: { elementsize: 4 } }] }, 3), undefined);
    assert.equal(fastArray(none, "/a", { ...v3, codecs: [{ name: "sharding_indexed" }] }, 3), undefined);
    assert.equal(fastArray(none, "/a", { ...v3, codecs: [{ name: "bytes", configuration: { endian: "big" } }] }, 3), undefined);
    assert.equal(fastArray(none, "/a", { ...v3, codecs: [{ name: "transpose" }, { name: "bytes" }] }, 3), undefined);
  });

  test("shuffled chunks of 8-, 2- and 1-byte elements: regions equal the data they were made from", async () => {
    const r = rng(7);
    for (const [dtype, Ctor] of [["<f8", Float64Array], ["<i2", Int16Array], ["|u1", Uint8Array]] as const) {
      const shape = [7, 13], chunks = [4, 5];
      const data = new Ctor(7 * 13).map(() => Math.floor(r() * 200) - (dtype === "|u1" ? 0 : 100) + (dtype === "<f8" ? r() : 0));
      // Uncompressed, shuffled chunks (padded with 0 at the edges, as written), keyed "i.j".
      const objects = new Map<string, Uint8Array>();
      for (let ci = 0; ci < 2; ci++) for (let cj = 0; cj < 3; cj++) {
        const chunk = new Ctor(20);
        for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) {
          const y = ci * 4 + i, x = cj * 5 + j;
          if (y < 7 && x < 13) chunk[i * 5 + j] = data[y * 13 + x]!;
        }
        objects.set(`/a/${ci}.${cj}`, shuffle(new Uint8Array(chunk.buffer), Ctor.BYTES_PER_ELEMENT, new Uint8Array(chunk.byteLength)));
      }
      const meta = { ...V2, shape, chunks, dtype, compressor: null, filters: [{ id: "shuffle", elementsize: Ctor.BYTES_PER_ELEMENT }] };
      const fast = fastArray(async (k) => objects.get(k), "/a", meta, 2)!;
      assert.ok(fast, dtype);
      for (let n = 0; n < 30; n++) {
        const { start, count } = randomRegion(shape, r);
        const got = (await fast.read(start, count)) as InstanceType<typeof Ctor>;
        const want = new Ctor(count[0]! * count[1]!);
        for (let i = 0; i < count[0]!; i++) for (let j = 0; j < count[1]!; j++) want[i * count[1]! + j] = data[(start[0]! + i) * 13 + start[1]! + j]!;
        assert.deepEqual(Array.from(got), Array.from(want), `${dtype} [${start}] + [${count}]`);
      }
    }
  });

  test("a missing chunk reads as the fill value; a short or broken chunk fails naming it", async (t) => {
    if (!zstdAddon()) return t.skip("the zstd addon is not built");
    const a = fastArray(none, "/a", { ...v2, fill_value: "NaN" }, 2)!;
    const got = await a.read([3, 3], [4, 4]);
    assert.ok(Array.from(got as Float32Array).every(Number.isNaN));
    const short = zstdAddon()!.compress(new Uint8Array(40), 3);
    const b = fastArray(async () => short, "/a", v2, 2)!;
    await assert.rejects(b.read([4, 4], [2, 2]), /chunk \/a\/0\.0 decodes to 40 bytes, expected 100/);
    const c = fastArray(async () => short.subarray(0, short.byteLength - 3), "/a", v2, 2)!;
    await assert.rejects(c.read([0, 0], [1, 1]), /zstd data ends inside a frame/);
    await assert.rejects(a.read([0, 0], [11, 1]), /outside shape/);
  });
});

describe("fast Zarr reads: early stop", { skip: !zstdAddon() }, () => {
  test("a region at a chunk's start stops reading and decoding early; one at its end reads the whole object", async () => {
    const tmp = tempDir("early");
    try {
      const meta = { ...V2, shape: [8, 256, 512], chunks: [8, 256, 512] };
      const r = rng(3);
      const data = new Float32Array(8 * 256 * 512).map(() => r());
      const frame = zstdAddon()!.compress(new Uint8Array(data.buffer), 3);
      assert.ok(frame.byteLength > 3 << 20, `chunk of ${frame.byteLength} bytes spans several 1 MiB reads`);
      writeFileSync(join(tmp.dir, "0.0.0"), frame);
      const metrics = new RequestMetrics();
      const store = withMetrics(new FsStore(tmp.dir), metrics);
      const fast = fastArray((k) => store.get(k), "/", meta, 2, store.readPieces.bind(store))!;
      const readBytes = async (start: number[]) => {
        const before = metrics.summary().byOp["get"]?.bytes ?? 0;
        const v = await fast.read(start, [1, 1, 1]);
        assert.equal(v[0], data[start[0]! * 256 * 512 + start[1]! * 512 + start[2]!]);
        return (metrics.summary().byOp["get"]?.bytes ?? 0) - before;
      };
      assert.ok((await readBytes([0, 0, 0])) <= 1 << 20, "the first element needs the first piece only");
      assert.equal(await readBytes([7, 255, 511]), frame.byteLength, "the last element needs the whole chunk");
    } finally {
      tmp.cleanup();
    }
  });
});

describe("fast Zarr reads on S3: a large chunk as parallel ranges, decoded as they arrive", { skip: !zstdAddon() }, () => {
  let t: TestS3;
  before(async () => {
    t = await startTestS3();
  });
  after(async () => t?.stop());

  test("the point, map and whole-array reads equal the data written; a missing chunk is the fill value", async () => {
    // One 16 MiB (decoded) chunk of noisy floats, compressed to more than three 4 MiB ranges, and a
    // second chunk never written.
    const shape = [8, 1024, 1024], chunks = [4, 1024, 1024];
    const r = rng(11);
    const data = new Float32Array(4 * 1024 * 1024).map(() => r() * 100);
    const frame = zstdAddon()!.compress(new Uint8Array(data.buffer), 3);
    assert.ok(frame.byteLength > 12 << 20, `${frame.byteLength} bytes`);
    const meta = { ...V2, shape, chunks, fill_value: "NaN" };
    const attrs = { _ARRAY_DIMENSIONS: ["t", "y", "x"] };
    const st = t.store(`s3://${BUCKET}/fast.zarr`);
    const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    await st.set("/v/.zarray", json(meta));
    await st.set("/v/.zattrs", json(attrs));
    await st.set("/v/0.0.0", frame);
    await st.set("/.zgroup", json({ zarr_format: 2 }));
    await st.set("/.zmetadata", json({ zarr_consolidated_format: 1, metadata: { ".zgroup": { zarr_format: 2 }, "v/.zarray": meta, "v/.zattrs": attrs } }));
    const ds = await openZarrDataset(`s3://${BUCKET}/fast.zarr`);
    const v = await ds.array("/v");
    const at = (ti: number, y: number, x: number) => data[ti * 1024 * 1024 + y * 1024 + x]!;
    const point = (await v.read([0, 700, 300], [8, 1, 1])) as Float32Array;
    assert.deepEqual([...point.subarray(0, 4)], [0, 1, 2, 3].map((ti) => at(ti, 700, 300)));
    assert.ok([...point.subarray(4)].every(Number.isNaN), "the chunk never written reads as NaN");
    const map = (await v.read([3, 0, 0], [1, 1024, 1024])) as Float32Array;
    assert.ok(Buffer.from(map.buffer).equals(Buffer.from(data.buffer, 3 * 4 << 20, 4 << 20)));
    const all = (await v.read([0, 0, 0], [4, 1024, 1024])) as Float32Array;
    assert.ok(Buffer.from(all.buffer).equals(Buffer.from(data.buffer)));
    ds.close();
  });
});

describe("the zstd addon (zstd-napi, built by tools/build-native.sh)", () => {
  test("it is built and loads", () => {
    const addon = zstdAddon();
    assert.ok(addon, "zstd-napi failed to build or load: run bash tools/build-native.sh");
    assert.match(addon.version, /^1\.\d+\.\d+$/);
  });

  test("one-shot and piece-wise decoding agree, whatever the input split; sessions interleave; truncation is caught", { skip: !zstdAddon() }, () => {
    const addon = zstdAddon()!;
    const r = rng(7);
    const data = new Float32Array(700_000).map((_, i) => Math.round(Math.sin(i / 300) * 1000 + r() * 10));
    const raw = new Uint8Array(data.buffer);
    const frame = addon.compress(raw, 3).slice();
    assert.ok(frame.byteLength < raw.byteLength);
    assert.ok(Buffer.from(addon.decompress(frame)!).equals(Buffer.from(raw)));
    // Two frames back to back are valid zstd; the one-shot call declines them, pieces handle them.
    const two = Buffer.concat([frame, frame]);
    assert.equal(addon.decompress(two), undefined);
    const collect = () => {
      const parts: Buffer[] = [];
      return { parts, session: addon.pieceDecoder((b) => (parts.push(Buffer.from(b)), true)) };
    };
    const a = collect(), b = collect();
    for (let off = 0; off < two.byteLength;) {
      const n = 1 + Math.floor(r() * 200_000);
      a.session.feed(two.subarray(off, off + n));
      b.session.feed(frame.subarray(Math.min(off, frame.byteLength), Math.min(off + n, frame.byteLength)));
      off += n;
    }
    a.session.finish();
    b.session.finish();
    assert.ok(Buffer.concat(a.parts).equals(Buffer.concat([raw, raw])));
    assert.ok(Buffer.concat(b.parts).equals(Buffer.from(raw)));
    assert.ok(a.parts.slice(0, -1).every((p) => p.byteLength === 1 << 20), "whole pieces but the last");
    const t = collect();
    t.session.feed(frame.subarray(0, frame.byteLength - 100));
    assert.throws(() => t.session.finish(), /ends inside a frame/);
    // A stopped session hands its context back clean: the next one decodes from the start.
    const stop = addon.pieceDecoder(() => false);
    assert.equal(stop.feed(frame), false);
    stop.finish();
    const again = collect();
    again.session.feed(frame);
    again.session.finish();
    assert.ok(Buffer.concat(again.parts).equals(Buffer.from(raw)));
  });

  test("bytes that are not zstd are an error", { skip: !zstdAddon() }, () => {
    const s = zstdAddon()!.pieceDecoder(() => true);
    assert.throws(() => s.feed(new TextEncoder().encode("not a zstd frame at all")), /unknown frame descriptor|prefix/i);
    s.finish();
  });
});
