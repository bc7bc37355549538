/**
 * Object storage against the local endpoint (s3rver, started by the project on 127.0.0.1): the S3
 * store's operations at their edges, NetCDF on S3 → Zarr on S3 → verify for single files and a
 * collection, the same bytes as a local conversion, overwrite and clean-up, faults, and security.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FsStore } from "../lib/store/fs.js";
import { MULTIPART_THRESHOLD } from "../lib/store/s3.js";
import { BLOCK_SIZE } from "../lib/io/remote.js";
import { openByteSource } from "../lib/io/open.js";
import { readExact } from "../lib/io/byte-source.js";
import { CORPUS, CORPUS_MISSING, PYTHON_MISSING, cli, cliAsync, dailyArchive, tempDir } from "./helpers.js";
import { BUCKET, contents, differences, startTestS3, type TestS3 } from "./s3-helpers.js";
import { startProxy } from "../lib/s3local/proxy.js";

const pattern = (n: number, seed = 7) => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
};

describe("S3 store on the local endpoint", () => {
  let t: TestS3;
  before(async () => (t = await startTestS3()));
  after(() => t.stop());

  test("the endpoint listens on loopback only and stores objects as files in its data directory", async () => {
    assert.match(t.s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    await t.store(`s3://${BUCKET}/visible`).set("/hello.txt", new TextEncoder().encode("hi"));
    assert.ok(existsSync(join(t.s3.dataDir, BUCKET)), "bucket folder in the data directory");
  });

  test("ranged reads are byte-exact at every boundary", async () => {
    const st = t.store(`s3://${BUCKET}/ranges`);
    const data = pattern(3 * BLOCK_SIZE + 123);
    await st.set("/obj", data);
    const n = data.length;
    for (const [off, len] of [[0, 1], [0, 8], [1, 1], [BLOCK_SIZE - 1, 2], [BLOCK_SIZE, BLOCK_SIZE], [n - 1, 1], [n - 5, 5], [17, n - 17]] as const) {
      const got = await st.readRange("/obj", off, len);
      assert.deepEqual(Buffer.from(got!), Buffer.from(data.subarray(off, off + len)), `range ${off}+${len}`);
    }
    assert.deepEqual(Buffer.from((await st.readRange("/obj", n - 3, 10))!), Buffer.from(data.subarray(n - 3)), "clamped at the end");
    assert.equal((await st.readRange("/obj", n + 10, 4))!.byteLength, 0, "past the end: empty");
    assert.equal(await st.readRange("/missing", 0, 4), undefined);
    assert.deepEqual(await st.head("/obj"), { size: n });
    assert.equal(await st.head("/missing"), undefined);

    // The synchronous reader h5wasm and the NetCDF-3 parser use, through its block cache.
    const src = openByteSource(`s3://${BUCKET}/ranges/obj`);
    assert.equal(src.size, n);
    for (const [off, len] of [[0, 1], [BLOCK_SIZE - 3, 7], [2 * BLOCK_SIZE, 4 * BLOCK_SIZE > n ? n - 2 * BLOCK_SIZE : 10], [5, 5 * BLOCK_SIZE > n ? n - 5 : 1]] as const) {
      assert.deepEqual(Buffer.from(readExact(src, off, len)), Buffer.from(data.subarray(off, off + len)), `sync range ${off}+${len}`);
    }
    assert.throws(() => readExact(src, n - 2, 4), /truncated: unexpected end of file/);
    assert.throws(() => openByteSource(`s3://${BUCKET}/ranges/nope`), /no such object/);
  });

  test("listing pages past 1000 keys, and deletePrefix removes them all in batches", async () => {
    const st = t.store(`s3://${BUCKET}/many`);
    const keys = Array.from({ length: 1234 }, (_, i) => `/k/${String(i).padStart(5, "0")}` as const);
    for (let i = 0; i < keys.length; i += 64) await Promise.all(keys.slice(i, i + 64).map((k) => st.set(k, new Uint8Array([1]))));
    await st.set("/other", new Uint8Array([2]));
    const listed: string[] = [];
    for await (const k of st.list("/k")) listed.push(k);
    assert.deepEqual(listed.sort(), keys);
    assert.ok((st.metrics.summary().byOp["list"]?.count ?? 0) >= 2, "more than one page");
    await st.deletePrefix("/k");
    const left: string[] = [];
    for await (const k of st.list("/")) left.push(k);
    assert.deepEqual(left, ["/other"]);
    assert.equal(st.metrics.summary().byOp["deleteBatch"]?.count, 2, "1234 keys: two DeleteObjects calls");
  });

  test("large objects go up in parts and come back identical", async () => {
    const st = t.store(`s3://${BUCKET}/multi`);
    const big = pattern(MULTIPART_THRESHOLD + 3 * 2 ** 20 + 17, 3);
    await st.set("/big", big);
    assert.equal(st.metrics.summary().byOp["multipart"]?.count, 1);
    assert.ok(Buffer.from((await st.get("/big"))!).equals(Buffer.from(big)));
    assert.deepEqual(Buffer.from((await st.readRange("/big", 8 * 2 ** 20 - 2, 4))!), Buffer.from(big.subarray(8 * 2 ** 20 - 2, 8 * 2 ** 20 + 2)), "across a part boundary");
  });

  test("read after write: objects written concurrently read back whole at once (the endpoint flushes before answering)", async () => {
    const st = t.store(`s3://${BUCKET}/raw`);
    const objects = Array.from({ length: 32 }, (_, i) => pattern(3 * 2 ** 20 + i * 4099, i + 1));
    for (let round = 0; round < 3; round++) {
      await Promise.all(objects.map(async (o, i) => {
        await st.set(`/o${i}`, o);
        const back = await st.get(`/o${i}`);
        assert.equal(back?.byteLength, o.byteLength, `o${i} read right after its write`);
        assert.ok(Buffer.from(back!).equals(Buffer.from(o)));
      }));
    }
  });

  test("large objects read as parallel ranges: past the end, exactly at a part boundary, and beyond the size bound", async () => {
    const st = t.store(`s3://${BUCKET}/parts`);
    const MiB = 2 ** 20;
    const odd = pattern(3 * MiB + 123, 5), even = pattern(2 * MiB, 6);
    await st.set("/odd", odd);
    await st.set("/even", even);
    const same = (a: Uint8Array | undefined, b: Uint8Array) => assert.ok(a && Buffer.from(a).equals(Buffer.from(b)));
    const before = st.metrics.summary().byOp["readRange"]?.count ?? 0;
    same(await st.getInRanges("/odd", 6 * MiB, MiB), odd); // 6 ranges at once, 2 past the end
    assert.equal((st.metrics.summary().byOp["readRange"]?.count ?? 0) - before, 6);
    assert.equal(st.metrics.summary().byOp["readRange"]?.errors ?? 0, 0, "a range past the end is an answer, not an error");
    same(await st.getInRanges("/odd", 2 * MiB, MiB), odd); // the bound was too small: the rest follows
    same(await st.getInRanges("/even", 2 * MiB, MiB), even); // full parts up to the bound, then one empty read
    same(await st.getInRanges("/odd", 10, MiB), odd);
    assert.equal(await st.getInRanges("/none", 4 * MiB, MiB), undefined);
    // The same ranges as pieces, in order, for a reader that decodes as they arrive; it may stop early.
    for (const [bound, obj] of [[6 * MiB, odd], [2 * MiB, odd], [2 * MiB, even]] as const) {
      const parts: Buffer[] = [];
      const n = await st.readPiecesInRanges(obj === odd ? "/odd" : "/even", bound, async (p) => void parts.push(Buffer.from(p)), MiB);
      assert.equal(n, obj.byteLength);
      same(Buffer.concat(parts), obj);
    }
    let seen = 0;
    await st.readPiecesInRanges("/odd", 6 * MiB, async (p) => ((seen += p.byteLength), false), MiB);
    assert.ok(seen > 0 && seen <= MiB, `stopped after the first piece: ${seen} bytes`);
    assert.equal(await st.readPiecesInRanges("/none", 4 * MiB, async () => true, MiB), undefined);
  });

  test("conditional writes: of two racing writers exactly one wins", async () => {
    const st = t.store(`s3://${BUCKET}/lock`);
    const results = await Promise.all([1, 2, 3, 4].map((i) => st.setIfAbsent("/lock", new Uint8Array([i]))));
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true) + 1;
    assert.deepEqual([...(await st.get("/lock"))!], [winner]);
  });

  test("keys and URLs that escape the prefix are refused", async () => {
    const st = t.store(`s3://${BUCKET}/jail`);
    await assert.rejects(st.set("/../outside", new Uint8Array(1)), /escapes the store/);
    await assert.rejects(st.get("/a/./b"), /escapes the store/);
    assert.throws(() => t.store(`s3://${BUCKET}/a/../b`), /\. or \.\. segments/);
    assert.throws(() => t.store("s3://No_Such/x"), /invalid bucket name/);
  });
});

describe("NetCDF on S3 → Zarr on S3", { skip: CORPUS_MISSING || PYTHON_MISSING }, () => {
  let t: TestS3;
  const tmp = tempDir("s3conv");
  let days: string[] = [];
  let dayUrls: string[] = [];
  before(async () => {
    t = await startTestS3();
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "5", "--nlat", "37", "--nlon", "48"]);
    dayUrls = await t.upload(days, "archive");
  });
  after(async () => {
    await t.stop();
    tmp.cleanup();
  });

  // NetCDF-4, NetCDF-3 classic (to Zarr v2: its char data is not UTF-8) and CDF-5.
  for (const [file, extra] of [["kerchunk_air.nc", []], ["ref_nctest_classic.nc", ["--zarr-format", "2"]], ["pnetcdf_test_cdf.nc5", []]] as const) {
    test(`${file}: converted from S3 to S3 (${extra.join(" ") || "v3"}), verified there, and byte-identical to a local conversion`, async () => {
      const [url] = await t.upload([join(CORPUS, file)], "single");
      const out = `s3://${BUCKET}/zarr/${file}.zarr`;
      const local = join(tmp.dir, `${file}.zarr`);
      const a = cli(["convert", url!, "--out", out, "-q", "--json", ...extra], { env: t.env });
      assert.equal(a.status, 0, a.stderr);
      const summary = JSON.parse(a.stdout) as { storage: { requests: number; bytesIn: number; bytesOut: number } };
      assert.ok(summary.storage.requests > 0 && summary.storage.bytesOut > 0, "S3 traffic is reported");
      const v = cli(["verify", url!, out], { env: t.env });
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /identical to the source/);
      assert.equal(cli(["convert", join(CORPUS, file), "--out", local, "-q", ...extra]).status, 0);
      assert.deepEqual(differences(await contents(t.store(out)), await contents(new FsStore(local))), []);
    });
  }

  test("a daily collection by s3:// glob, on worker threads that read their own ranges, equals the local conversion", async () => {
    const out = `s3://${BUCKET}/zarr/archive.zarr`;
    const args = ["--chunks", "time=48,lat=16,lon=16", "--executor", "threads", "--workers", "2", "-q"];
    const r = cli(["convert", `s3://${BUCKET}/archive/*.nc`, "--out", out, ...args], { env: t.env });
    assert.equal(r.status, 0, r.stderr);
    const v = cli(["verify", `s3://${BUCKET}/archive/power_*.nc`, out], { env: t.env });
    assert.equal(v.status, 0, v.stderr);
    const local = join(tmp.dir, "archive.zarr");
    assert.equal(cli(["convert", ...days, "--out", local, ...args]).status, 0);
    assert.deepEqual(differences(await contents(t.store(out)), await contents(new FsStore(local))), []);
    const inspect = cli(["inspect", `s3://${BUCKET}/archive/*.nc`, "--json"], { env: t.env });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as { inputs: string[] }).inputs.length, dayUrls.length);
  });

  test("--remote-read download, in child-process workers, gives the same store as ranged reads", async () => {
    const a = `s3://${BUCKET}/zarr/ranged.zarr`, b = `s3://${BUCKET}/zarr/download.zarr`;
    assert.equal(cli(["convert", ...dayUrls.slice(0, 2), "--out", a, "-q"], { env: t.env }).status, 0);
    const r = cli(["convert", ...dayUrls.slice(0, 2), "--out", b, "-q", "--remote-read", "download", "--executor", "process", "--workers", "2"], { env: t.env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(differences(await contents(t.store(a)), await contents(t.store(b))), []);
  });

  test("an existing store is refused, then replaced with --overwrite leaving no stale object", async () => {
    const out = `s3://${BUCKET}/zarr/over.zarr`;
    assert.equal(cli(["convert", dayUrls[0]!, "--out", out, "-q"], { env: t.env }).status, 0);
    await t.store(out).set("/T2M/c/99/0/0", new Uint8Array([1, 2, 3]));
    const refused = cli(["convert", dayUrls[0]!, "--out", out, "-q"], { env: t.env });
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, `convert-to-zarr: ${out}: output already exists (use --overwrite to replace it)\n`);
    assert.equal(cli(["convert", dayUrls[0]!, "--out", out, "-q", "--overwrite"], { env: t.env }).status, 0);
    assert.equal(await t.store(out).has("/T2M/c/99/0/0"), false);
    const foreign = `s3://${BUCKET}/single`;
    const r = cli(["convert", dayUrls[0]!, "--out", foreign, "-q", "--overwrite"], { env: t.env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /non-empty prefix that is not a Zarr store; refusing to delete it/);
  });

  test("bad inputs on S3: one line naming the object, exit 1, nothing left that looks complete", async () => {
    const [bad] = await t.upload([join(CORPUS, "MANIFEST.md")], "bad");
    const out = `s3://${BUCKET}/zarr/bad.zarr`;
    const r = cli(["convert", dayUrls[0]!, bad!, "--out", out, "-q"], { env: t.env });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `convert-to-zarr: ${bad}: not a NetCDF or HDF5 file (no NetCDF-3 or HDF5 signature)\n`);
    assert.equal((await contents(t.store(out))).size, 0);
    const none = cli(["convert", `s3://${BUCKET}/archive/*.grib`, "--out", out, "-q"], { env: t.env });
    assert.equal(none.stderr, `convert-to-zarr: s3://${BUCKET}/archive/*.grib: no objects match\n`);
    const missing = cli(["inspect", `s3://${BUCKET}/archive/nope.nc`], { env: t.env });
    assert.equal(missing.stderr, `convert-to-zarr: s3://${BUCKET}/archive/nope.nc: no such object\n`);
    const noBucket = cli(["inspect", "s3://no-such-bucket-c2z/x.nc"], { env: t.env });
    assert.equal(noBucket.status, 1);
    assert.match(noBucket.stderr, /^convert-to-zarr: s3:\/\/no-such-bucket-c2z.*: no such (bucket|object)\n$/);
  });

  test("through a proxy injecting 503s, 500s, resets, cut bodies and slow answers, the run completes, verifies and reports retries", async () => {
    const proxy = await startProxy({ upstream: t.s3.endpoint, faults: { rate: 0.15, kinds: ["503", "500", "reset", "cut", "slow"], slowMs: 300, seed: 11 } });
    try {
      const env = { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
      const out = `s3://${BUCKET}/zarr/faults.zarr`;
      const r = await cliAsync(["convert", ...dayUrls, "--out", out, "-q", "--json", "--executor", "threads", "--workers", "2", "--chunks", "time=24,lat=16,lon=16"], { env });
      assert.equal(r.status, 0, r.stderr);
      const injected = Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0);
      assert.ok(injected >= 5, `faults injected: ${JSON.stringify(proxy.stats)}`);
      const s = JSON.parse(r.stdout) as { storage: { retries: number } };
      assert.ok(s.storage.retries > 0, `retries reported: ${JSON.stringify(s.storage)}`);
      proxy.setFaults(undefined);
      const v = await cliAsync(["verify", ...dayUrls, out], { env });
      assert.equal(v.status, 0, v.stderr);
    } finally {
      await proxy.stop();
    }
  });

  test("faults beyond the retry budget fail the run cleanly; --resume then finishes it byte-identical", async () => {
    const proxy = await startProxy({ upstream: t.s3.endpoint });
    try {
      const env = { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_MAX_ATTEMPTS: "2" };
      const out = `s3://${BUCKET}/zarr/budget.zarr`;
      const args = [...dayUrls, "--out", out, "-q", "--chunks", "time=24,lat=16,lon=16", "--executor", "inline"];
      proxy.setFaults({ rate: 1, kinds: ["503"], afterRequests: 60 });
      const failed = await cliAsync(["convert", ...args], { env });
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /^convert-to-zarr: s3:\/\/.*S3 \w+ failed with HTTP 503: SlowDown after 2 attempts\n$/);
      proxy.setFaults(undefined);
      assert.ok(await t.store(out).has("/.convert-to-zarr-in-progress"), "the partial store is marked incomplete");
      const refused = await cliAsync(["verify", ...dayUrls, out], { env });
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /store is incomplete/);
      const resumed = await cliAsync(["convert", ...args, "--resume"], { env });
      assert.equal(resumed.status, 0, resumed.stderr);
      const clean = `s3://${BUCKET}/zarr/budget-clean.zarr`;
      assert.equal((await cliAsync(["convert", ...args.slice(0, dayUrls.length), "--out", clean, ...args.slice(dayUrls.length + 2)], { env })).status, 0);
      assert.deepEqual(differences(await contents(t.store(out)), await contents(t.store(clean))), []);
    } finally {
      await proxy.stop();
    }
  });

  test("server-side encryption is requested on every write when configured; credentials never reach the output", async () => {
    const puts: (string | undefined)[] = [];
    const proxy = await startProxy({
      upstream: t.s3.endpoint,
      onRequest: (req) => void (req.method === "PUT" && puts.push(req.headers["x-amz-server-side-encryption"] as string | undefined)),
    });
    try {
      const env = { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, CONVERT_TO_ZARR_SSE: "AES256" };
      const r = await cliAsync(["convert", dayUrls[0]!, "--out", `s3://${BUCKET}/zarr/sse.zarr`, "-q"], { env });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(puts.length > 3);
      assert.deepEqual(new Set(puts), new Set(["AES256"]));
      const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
      const denied = await cliAsync(["inspect", dayUrls[0]!], {
        env: { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, CONVERT_TO_ZARR_S3: "", AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: secret },
      });
      assert.equal(denied.status, 1);
      assert.ok(!denied.stderr.includes(secret) && !denied.stdout.includes(secret) && !/X-Amz-Signature/i.test(denied.stderr));
      assert.match(denied.stderr, /^convert-to-zarr: s3:\/\/.*: access denied \(head\): no permission, or a Requester Pays bucket \(then add --request-payer requester, and pay for the reads\)\n$/);
    } finally {
      await proxy.stop();
    }
  });
});
