/**
 * The S3 pieces that need no endpoint, or only a throwaway one: which S3 a run talks to, URL rules,
 * the composable store wrappers, the latency proxy's arithmetic, and the CLI finding `s3-local`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { FsStore } from "../lib/store/fs.js";
import { RequestMetrics, withMetrics } from "../lib/store/metrics.js";
import { resolveS3Settings } from "../lib/store/s3-config.js";
import { objectKey, parseS3Url } from "../lib/store/s3-url.js";
import { withLatency, withReadCache } from "../lib/store/wrappers.js";
import { PROFILES, startProxy } from "../lib/s3local/proxy.js";
import { ROOT, cli, tempDir } from "./helpers.js";

describe("which S3", () => {
  const tmp = tempDir("s3cfg");
  after(() => tmp.cleanup());
  const home = join(tmp.dir, "home");
  mkdirSync(home, { recursive: true });
  const bare = { HOME: home };

  test("an explicit endpoint wins, path-style, with the local credentials when it is loopback and no keys are set", () => {
    const s = resolveS3Settings({}, { ...bare, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4568" });
    assert.equal(s.endpoint, "http://127.0.0.1:4568");
    assert.equal(s.forcePathStyle, true);
    assert.equal(s.localCredentials, true);
    const withKeys = resolveS3Settings({}, { ...bare, AWS_ENDPOINT_URL: "http://minio.lan:9000", AWS_ACCESS_KEY_ID: "AKIA" });
    assert.equal(withKeys.endpoint, "http://minio.lan:9000");
    assert.equal(withKeys.localCredentials, false);
  });

  test("AWS when credentials are configured: keys, a profile, a credentials file, or CONVERT_TO_ZARR_S3=aws", () => {
    assert.equal(resolveS3Settings({}, { ...bare, AWS_ACCESS_KEY_ID: "AKIA", AWS_REGION: "eu-west-1" }).source, "AWS");
    assert.equal(resolveS3Settings({}, { ...bare, AWS_ACCESS_KEY_ID: "AKIA", AWS_REGION: "eu-west-1" }).region, "eu-west-1");
    assert.equal(resolveS3Settings({}, { ...bare, AWS_PROFILE: "science" }).endpoint, undefined);
    assert.equal(resolveS3Settings({}, { ...bare, CONVERT_TO_ZARR_S3: "aws" }).source, "AWS");
    const h2 = join(tmp.dir, "home2");
    mkdirSync(join(h2, ".aws"), { recursive: true });
    writeFileSync(join(h2, ".aws", "credentials"), "[default]\n");
    assert.equal(resolveS3Settings({}, { HOME: h2 }).source, "AWS");
  });

  test("otherwise the running local endpoint from its state file; a stale file or none is a one-line error", () => {
    const state = join(tmp.dir, "state.json");
    const env = { ...bare, CONVERT_TO_ZARR_S3_LOCAL_STATE: state };
    assert.throws(() => resolveS3Settings({}, env), /^ConvertError: no AWS credentials and no local S3 endpoint running: start one with `npm run s3:local`, or set AWS_ENDPOINT_URL_S3$/);
    writeFileSync(state, JSON.stringify({ endpoint: "http://127.0.0.1:4999", dataDir: "/x", pid: process.pid }));
    const s = resolveS3Settings({}, env);
    assert.equal(s.endpoint, "http://127.0.0.1:4999");
    assert.equal(s.localCredentials, true);
    writeFileSync(state, JSON.stringify({ endpoint: "http://127.0.0.1:4999", dataDir: "/x", pid: 2 ** 22 + 17 }));
    assert.throws(() => resolveS3Settings({}, env), /no local S3 endpoint running/);
  });

  test("server-side encryption settings are checked", () => {
    const env = { ...bare, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" };
    assert.deepEqual(resolveS3Settings({}, { ...env, CONVERT_TO_ZARR_SSE: "aws:kms", CONVERT_TO_ZARR_SSE_KMS_KEY_ID: "k1" }).sse, { mode: "aws:kms", kmsKeyId: "k1" });
    assert.throws(() => resolveS3Settings({}, { ...env, CONVERT_TO_ZARR_SSE: "DES" }), /CONVERT_TO_ZARR_SSE must be AES256 or aws:kms, not "DES"/);
  });

  test("s3:// URLs and keys", () => {
    assert.deepEqual(parseS3Url("s3://my-bucket"), { bucket: "my-bucket", prefix: "" });
    assert.deepEqual(parseS3Url("s3://my-bucket/a//b/"), { bucket: "my-bucket", prefix: "a/b" });
    assert.equal(objectKey("a/b", "/c/zarr.json", "s3://x"), "a/b/c/zarr.json");
    assert.equal(objectKey("", "/zarr.json", "s3://x"), "zarr.json");
    assert.throws(() => objectKey("a", "/../b", "s3://x/a"), /escapes the store/);
    assert.throws(() => parseS3Url("s3://ab/x"), /invalid bucket name "ab"/);
    assert.throws(() => parseS3Url("s3://a..b/x"), /invalid bucket name/);
    assert.throws(() => parseS3Url("/tmp/x"), /not an s3:\/\/ URL/);
  });
});

describe("store wrappers", () => {
  const tmp = tempDir("wrap");
  after(() => tmp.cleanup());

  test("a read cache in front of a metered store: repeated reads cost one request; writes invalidate", async () => {
    const metrics = new RequestMetrics();
    const store = withReadCache(withMetrics(new FsStore(tmp.dir), metrics));
    await store.set("/a", new Uint8Array([1, 2, 3, 4]));
    for (let i = 0; i < 3; i++) assert.deepEqual([...(await store.get("/a"))!], [1, 2, 3, 4]);
    assert.deepEqual([...(await store.readRange("/a", 1, 2))!], [2, 3]);
    assert.equal(metrics.summary().byOp["get"]?.count, 1);
    assert.equal(metrics.summary().byOp["readRange"], undefined, "served from the cached object");
    await store.set("/a", new Uint8Array([9]));
    assert.deepEqual([...(await store.get("/a"))!], [9]);
    assert.equal(metrics.summary().byOp["get"]?.count, 2);
    assert.equal(await store.get("/none"), undefined);
    assert.equal(await store.get("/none"), undefined);
    assert.equal(metrics.summary().byOp["get"]?.count, 3, "a miss is remembered too");
    const s = metrics.summary();
    assert.equal(s.bytesOut, 5);
    assert.equal(s.bytesIn, 5);
  });

  test("a latency profile delays each call by at least its first-byte time", async () => {
    const store = withLatency(new FsStore(tmp.dir), { ...PROFILES.s3, firstByteMs: 60, jitterMs: 0 });
    const t0 = performance.now();
    await store.get("/a");
    await store.head("/a");
    assert.ok(performance.now() - t0 >= 118, "two calls, 60 ms each");
  });

  test("the S3 profile states its figures and their source", () => {
    assert.equal(PROFILES.s3.firstByteMs, 100);
    assert.equal(PROFILES.s3.jitterMs, 100);
    assert.equal(PROFILES.s3.bytesPerSecond, 85e6);
    assert.match(PROFILES.s3.source, /AWS S3 User Guide/);
  });
});

/** The latency proxy (80 ms to first byte, no jitter) in front of a server answering every request with `body`. */
async function proxyOver(body: Buffer, bytesPerSecond: number) {
  const upstream = createServer((_req, res) => res.end(body)).listen(0, "127.0.0.1");
  await new Promise((ok) => upstream.once("listening", ok));
  const proxy = await startProxy({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    profile: { name: "t", firstByteMs: 80, jitterMs: 0, bytesPerSecond, source: "test" },
  });
  return { proxy, upstream };
}

describe("latency proxy", () => {
  test("adds first-byte latency and caps bandwidth per connection; forwards bytes unchanged", async () => {
    const body = Buffer.alloc(1 << 20, 7);
    const { proxy, upstream } = await proxyOver(body, 4e6);
    try {
      const t0 = performance.now();
      const res = await fetch(proxy.endpoint + "/x");
      const head = performance.now() - t0;
      const got = Buffer.from(await res.arrayBuffer());
      const total = performance.now() - t0;
      assert.ok(got.equals(body));
      assert.ok(head >= 79, `first byte after ${head} ms`);
      assert.ok(total >= 80 + 250, `1 MiB at 4 MB/s: ${total} ms`);
      assert.match(proxy.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await proxy.stop();
      upstream.close();
    }
  });
});

describe("latency proxy: clients that go away", () => {
  test("a request aborted during the first-byte wait leaves the proxy serving (Node 24 threw out of the handler)", async () => {
    const body = Buffer.alloc(1 << 20, 3);
    const { proxy, upstream } = await proxyOver(body, 0);
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => escaped.push(e);
    process.on("unhandledRejection", onEscape);
    try {
      for (const at of [10, 40]) {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), at);
        await assert.rejects(fetch(proxy.endpoint + "/x", { signal: ac.signal }), { name: "AbortError" });
      }
      await sleep(150); // past the wait of both
      const res = await fetch(proxy.endpoint + "/x");
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(body));
      assert.deepEqual(escaped, []);
    } finally {
      process.off("unhandledRejection", onEscape);
      await proxy.stop();
      upstream.close();
    }
  });
});

describe("s3-local", () => {
  test("the CLI's s3-local runs the endpoint; other commands find it with no AWS settings at all", async () => {
    const tmp = tempDir("s3local");
    const state = join(tmp.dir, "state.json");
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(tmp.dir, "home"), CONVERT_TO_ZARR_S3_LOCAL_STATE: state, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
    const server = spawn(process.execPath, [join(ROOT, "bin/convert-to-zarr"), "s3-local", "--dir", join(tmp.dir, "data"), "--port", "0", "--bucket", "c2z-local"], { env });
    let out = "";
    server.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      // The state file is written by the endpoint, the line by the CLI once it hears back: wait for both.
      for (let i = 0; i < 100 && !(existsSync(state) && out.includes("\n")); i++) await sleep(100);
      assert.match(out, /^local S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(data in .*data, buckets: c2z-local\); Ctrl-C stops it\n$/);
      const r = cli(["inspect", "s3://c2z-local/nothing.nc"], { env: env as Record<string, string> });
      assert.equal(r.stderr, "convert-to-zarr: s3://c2z-local/nothing.nc: no such object\n", "reached the endpoint and got a 404");
    } finally {
      server.kill("SIGINT");
      await new Promise((ok) => server.once("exit", ok));
      tmp.cleanup();
    }
    assert.equal(existsSync(state), false, "the state file goes with the endpoint");
    const r = cli(["inspect", "s3://c2z-local/nothing.nc"], { env: env as Record<string, string> });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no AWS credentials and no local S3 endpoint running/);
  });
});
