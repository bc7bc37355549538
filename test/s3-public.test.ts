/**
 * Public and Requester Pays inputs: unsigned (anonymous) reads of s3:// inputs while the output store
 * is written with credentials, AWS_NO_SIGN_REQUEST, `--request-payer requester`, and the messages
 * when a read is refused. What each request carried is observed at the fault proxy (lib/s3local/proxy.ts)
 * in front of the real servers: s3rver (the local endpoint; it accepts unsigned requests) and moto's
 * server (which refuses an anonymous read of an object that is not public-read, as S3 does).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { convert } from "../lib/convert.js";
import { verify } from "../lib/verify.js";
import { openByteSource } from "../lib/io/open.js";
import { startProxy, type Proxy } from "../lib/s3local/proxy.js";
import { redirectRegion } from "../lib/store/s3.js";
import { noSignRequestFromEnv, resolveInputS3Settings, resolveS3Settings, useInputS3Settings, useS3Settings } from "../lib/store/s3-config.js";
import { CORPUS, CORPUS_MISSING, MODERN_PYTHON_MISSING, PYTHON, PYTHON_MISSING, ROOT, cli, cliAsync, dailyArchive, modernPython, tempDir } from "./helpers.js";
import type { ModernOutcome } from "../tools/conformance.js";
import { BUCKET, startTestS3, type TestS3 } from "./s3-helpers.js";

interface Seen { method: string; url: string; signed: boolean; payer?: string }
const record = (into: Seen[]) => (req: IncomingMessage) =>
  void into.push({ method: req.method ?? "", url: req.url ?? "", signed: !!req.headers.authorization || /X-Amz-Signature=/.test(req.url ?? ""), ...(req.headers["x-amz-request-payer"] && { payer: String(req.headers["x-amz-request-payer"]) }) });

describe("input access settings", () => {
  const tmp = tempDir("s3pub");
  after(() => tmp.cleanup());
  const home = join(tmp.dir, "home");
  mkdirSync(home, { recursive: true });
  const bare = { HOME: home };

  test("AWS_NO_SIGN_REQUEST reads as GDAL reads it: YES/TRUE/ON/1 in any case; NO/FALSE/OFF/0 or unset sign", () => {
    for (const v of ["YES", "yes", "true", "TRUE", "on", "1"]) assert.equal(noSignRequestFromEnv({ AWS_NO_SIGN_REQUEST: v }), true, v);
    for (const v of ["", "NO", "false", "off", "0"]) assert.equal(noSignRequestFromEnv({ AWS_NO_SIGN_REQUEST: v }), false, v);
    assert.equal(noSignRequestFromEnv({}), false);
    assert.throws(() => noSignRequestFromEnv({ AWS_NO_SIGN_REQUEST: "maybe" }), /AWS_NO_SIGN_REQUEST must be YES\/TRUE\/1 or NO\/FALSE\/0, not "maybe"/);
  });

  test("without credentials anywhere, anonymous inputs resolve (to AWS), while an output still needs a configuration", () => {
    assert.throws(() => resolveS3Settings({}, bare), /no AWS credentials and no local S3 endpoint running/);
    const s = resolveInputS3Settings({ unsigned: true }, bare);
    assert.deepEqual({ endpoint: s.endpoint, unsigned: s.unsigned, source: s.source, region: s.region }, { endpoint: undefined, unsigned: true, source: "AWS, unsigned", region: undefined });
    assert.equal(resolveInputS3Settings({}, { ...bare, AWS_NO_SIGN_REQUEST: "YES", AWS_REGION: "us-west-2" }).region, "us-west-2");
    const local = resolveInputS3Settings({}, { ...bare, AWS_NO_SIGN_REQUEST: "true", AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4568" });
    assert.deepEqual([local.endpoint, local.unsigned, local.localCredentials, local.forcePathStyle], ["http://127.0.0.1:4568", true, false, true]);
    assert.ok(!JSON.stringify(local).includes("S3RVER"), "no credentials in the settings sent to workers");
  });

  test("--request-payer goes with signed reads; with unsigned ones it is refused (Requester Pays refuses anonymous requests)", () => {
    const s = resolveInputS3Settings({ requestPayer: "requester" }, { ...bare, AWS_ACCESS_KEY_ID: "AKIA", AWS_REGION: "eu-west-1" });
    assert.deepEqual([s.source, s.requestPayer, s.unsigned], ["AWS", "requester", false]);
    assert.throws(() => resolveInputS3Settings({ requestPayer: "requester", unsigned: true }, bare), /needs signed requests/);
    const r = cli(["inspect", "x.nc", "--no-sign-request", "--request-payer", "owner"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--request-payer <who>' argument 'owner' is invalid/);
  });

  test("the region S3 names in a redirect (x-amz-bucket-region) is taken only when it differs and the answer is a redirect", () => {
    // The shape of the SDK's errors for S3's 301 PermanentRedirect / 400 answers (not reproducible off AWS).
    const err = (code: number, region?: string, name = "Unknown") => ({ name, $metadata: { httpStatusCode: code }, $response: { headers: region ? { "x-amz-bucket-region": region } : {} } });
    assert.equal(redirectRegion(err(301, "us-west-2"), "us-east-1"), "us-west-2");
    assert.equal(redirectRegion(err(400, "eu-central-1", "AuthorizationHeaderMalformed"), "us-east-1"), "eu-central-1");
    assert.equal(redirectRegion(err(301, "us-east-1"), "us-east-1"), undefined);
    assert.equal(redirectRegion(err(301), "us-east-1"), undefined);
    assert.equal(redirectRegion(err(403, "us-west-2", "AccessDenied"), "us-east-1"), undefined);
  });
});

describe("anonymous inputs on the local endpoint (s3rver), output written with credentials", { skip: CORPUS_MISSING || PYTHON_MISSING }, () => {
  let t: TestS3;
  let proxy: Proxy;
  const seen: Seen[] = [];
  const tmp = tempDir("s3pubconv");
  let env: Record<string, string>;
  before(async () => {
    t = await startTestS3();
    const days = dailyArchive(join(tmp.dir, "days"), ["--days", "3", "--nlat", "19", "--nlon", "24"]);
    await t.upload(days, "public");
    proxy = await startProxy({ upstream: t.s3.endpoint, onRequest: record(seen) });
    env = { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  });
  after(async () => {
    await proxy.stop();
    await t.stop();
    tmp.cleanup();
  });

  /** The requests of one run: reads of the inputs (under public/) and writes of the store. */
  const split = (from: number) => {
    const run = seen.slice(from);
    const inputs = run.filter((r) => r.url.includes(`/${BUCKET}/public/`) || /[?&]prefix=public/.test(r.url));
    const writes = run.filter((r) => r.method === "PUT" || r.method === "POST" || r.method === "DELETE");
    return { inputs, writes };
  };

  for (const [how, args, extraEnv] of [
    ["--no-sign-request, on worker threads", ["--no-sign-request", "--executor", "threads", "--workers", "2"], {}],
    ["AWS_NO_SIGN_REQUEST=true, in child-process workers", ["--executor", "process", "--workers", "2"], { AWS_NO_SIGN_REQUEST: "true" }],
  ] as const) {
    test(`${how}: every input request goes out unsigned, every write signed; the store verifies`, async () => {
      const from = seen.length;
      const out = `s3://${BUCKET}/zarr/${args[0] === "--no-sign-request" ? "flag" : "env"}.zarr`;
      const r = await cliAsync(["convert", `s3://${BUCKET}/public/*.nc`, "--out", out, "-q", "--chunks", "time=24,lat=10,lon=12", ...args], { env: { ...env, ...extraEnv } });
      assert.equal(r.status, 0, r.stderr);
      const { inputs, writes } = split(from);
      assert.ok(inputs.some((q) => q.method === "GET" && q.url.includes("list-type=2")), "the glob was listed");
      assert.ok(inputs.some((q) => q.method === "HEAD") && inputs.some((q) => q.method === "GET" && !q.url.includes("list-type")), "heads and ranged reads");
      assert.deepEqual(inputs.filter((q) => q.signed), [], "no input request signed");
      assert.ok(writes.length > 3 && writes.every((q) => q.signed), "every write signed");
      const v = await cliAsync(["verify", `s3://${BUCKET}/public/*.nc`, out, ...(args[0] === "--no-sign-request" ? ["--no-sign-request"] : [])], { env: { ...env, ...extraEnv } });
      assert.equal(v.status, 0, v.stderr);
      assert.deepEqual(split(from).inputs.filter((q) => q.signed), []);
    });
  }

  test("MERRA-2-like files with per-file time units, read anonymously: decoded as xarray 2026's open_mfdataset decodes the same files, v2 and v3", { skip: MODERN_PYTHON_MISSING }, async () => {
    const made = spawnSync(PYTHON, [join(ROOT, "test/py/make_archives.py"), join(tmp.dir, "archives")], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    const days = readdirSync(join(tmp.dir, "archives/merra")).sort().map((f) => join(tmp.dir, "archives/merra", f));
    await t.upload(days, "public/merra");
    const from = seen.length;
    const stores: Record<string, string> = {};
    for (const v of ["2", "3"]) {
      stores[`v${v}`] = join(tmp.dir, `merra.v${v}.zarr`);
      const r = await cliAsync(["convert", `s3://${BUCKET}/public/merra/*.nc4`, "--out", stores[`v${v}`]!, "-q", "--zarr-format", v, "--no-sign-request"], { env });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.deepEqual(split(from).inputs.filter((q) => q.signed), [], "no input request signed");
    const [res] = modernPython("compare_modern.py", ["--jobs"], JSON.stringify([{ sources: days, stores, concatDim: "time", views: ["decoded"] }])) as { v2: ModernOutcome; v3: ModernOutcome }[];
    assert.deepEqual([res!.v2.decoded, res!.v3.decoded], [{ ok: true, differences: [] }, { ok: true, differences: [] }]);
  });

  test("--request-payer requester: every input request says x-amz-request-payer: requester, signed; the store's requests do not", async () => {
    const from = seen.length;
    const r = await cliAsync(["convert", `s3://${BUCKET}/public/*.nc`, "--out", `s3://${BUCKET}/zarr/payer.zarr`, "-q", "--request-payer", "requester"], { env });
    assert.equal(r.status, 0, r.stderr);
    const { inputs, writes } = split(from);
    assert.ok(inputs.length >= 4);
    assert.deepEqual(inputs.filter((q) => q.payer !== "requester" || !q.signed), []);
    assert.deepEqual(writes.filter((q) => q.payer), []);
    const i = await cliAsync(["inspect", `s3://${BUCKET}/public/*.nc`, "--request-payer", "requester", "--json"], { env });
    assert.equal(i.status, 0, i.stderr);
  });

  test("without any flag, inputs are read signed as before", async () => {
    const from = seen.length;
    const r = await cliAsync(["inspect", `s3://${BUCKET}/public/*.nc`, "--json"], { env });
    assert.equal(r.status, 0, r.stderr);
    const { inputs } = split(from);
    assert.ok(inputs.length > 0 && inputs.every((q) => q.signed && !q.payer));
  });
});

/** A Python with moto's server: MOTO_PYTHON, else the project's .venv-moto (tools/setup-python.sh). */
function motoPython(): string | undefined {
  for (const py of [process.env.MOTO_PYTHON, join(ROOT, ".venv-moto/bin/python")]) {
    if (py && spawnSync(py, ["-c", "import moto.server, flask"], { encoding: "utf8" }).status === 0) return py;
  }
  return undefined;
}
const MOTO = motoPython();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe("a public bucket on moto's server: anonymous reads of public-read objects, refusals of the others", { skip: !MOTO && !process.env["CI"] ? "no moto server: run `bash tools/setup-python.sh`" : CORPUS_MISSING }, () => {
  let moto: ChildProcess;
  let endpoint = "";
  let motoProxy: Proxy;
  const seen: Seen[] = [];
  const tmp = tempDir("s3moto");
  const home = join(tmp.dir, "home");
  // No credentials anywhere: no keys, no profile, an empty home.
  let anonEnv: Record<string, string>;

  before(async () => {
    if (!MOTO) throw new Error("no moto server: run `bash tools/setup-python.sh` (it makes .venv-moto)");
    const port = await freePort();
    moto = spawn(MOTO, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await fetch(`${endpoint}/moto-api/`);
        break;
      } catch {
        if (i > 100) throw new Error("moto did not start");
        await sleep(100);
      }
    }
    mkdirSync(home, { recursive: true });
    // The bucket's owner puts the objects, with its own (moto's accepted) credentials.
    const { S3Client, CreateBucketCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const owner = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "owner", secretAccessKey: "owner" } });
    await owner.send(new CreateBucketCommand({ Bucket: "open-data" }));
    const body = readFileSync(join(CORPUS, "kerchunk_air.nc"));
    await owner.send(new PutObjectCommand({ Bucket: "open-data", Key: "pub/air.nc", Body: body, ACL: "public-read" }));
    await owner.send(new PutObjectCommand({ Bucket: "open-data", Key: "priv/air.nc", Body: body }));
    owner.destroy();
    motoProxy = await startProxy({ upstream: endpoint, onRequest: record(seen) });
    anonEnv = {
      HOME: home, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "", AWS_SESSION_TOKEN: "", CONVERT_TO_ZARR_S3: "",
      AWS_ENDPOINT_URL: "", AWS_ENDPOINT_URL_S3: endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
  });
  after(async () => {
    await motoProxy?.stop();
    moto?.kill();
    tmp.cleanup();
  });

  test("moto tells signed from unsigned: the private object is refused anonymously, in one line naming it, and read with credentials", () => {
    const refused = cli(["inspect", "s3://open-data/priv/air.nc", "--no-sign-request"], { env: anonEnv });
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, "convert-to-zarr: s3://open-data/priv/air.nc: access denied to an anonymous read (head): not public; read it with credentials (without --no-sign-request / AWS_NO_SIGN_REQUEST), adding --request-payer requester if the bucket is Requester Pays\n");
    const signed = cli(["inspect", "s3://open-data/priv/air.nc", "--json"], { env: { ...anonEnv, AWS_ACCESS_KEY_ID: "reader", AWS_SECRET_ACCESS_KEY: "reader" } });
    assert.equal(signed.status, 0, signed.stderr);
  });

  test("with no credentials anywhere, a public object is listed, inspected, converted and verified anonymously (CLI, and AWS_NO_SIGN_REQUEST=YES)", () => {
    const i = cli(["inspect", "s3://open-data/pub/*.nc", "--no-sign-request", "--json"], { env: anonEnv });
    assert.equal(i.status, 0, i.stderr);
    assert.deepEqual((JSON.parse(i.stdout) as { inputs: string[] }).inputs, ["s3://open-data/pub/air.nc"]);
    const out = join(tmp.dir, "air.zarr");
    const c = cli(["convert", "s3://open-data/pub/air.nc", "--out", out, "-q"], { env: { ...anonEnv, AWS_NO_SIGN_REQUEST: "YES" } });
    assert.equal(c.status, 0, c.stderr);
    const v = cli(["verify", "s3://open-data/pub/air.nc", out, "--no-sign-request"], { env: anonEnv });
    assert.equal(v.status, 0, v.stderr);
    const plain = cli(["inspect", "s3://open-data/pub/air.nc", "--json"], { env: { ...anonEnv, AWS_ENDPOINT_URL_S3: "" } });
    assert.equal(plain.status, 2, "without --no-sign-request and without credentials: the usual configuration error");
    assert.match(plain.stderr, /no AWS credentials and no local S3 endpoint running/);
  });

  test("in one process: inputs read anonymously from moto, the store written with credentials to the local endpoint, across both", { skip: PYTHON_MISSING }, async () => {
    const t = await startTestS3();
    const storeSeen: Seen[] = [];
    const storeProxy = await startProxy({ upstream: t.s3.endpoint, onRequest: record(storeSeen) });
    try {
      useS3Settings({ ...t.s3.settings, endpoint: storeProxy.endpoint });
      // Straight to moto: the synchronous range reader blocks this thread, so no proxy of this process in between.
      useInputS3Settings(resolveInputS3Settings({ unsigned: true, endpoint }, {}));
      assert.throws(() => openByteSource("s3://open-data/priv/air.nc"), /access denied to an anonymous read \(head\)/, "the inputs go unsigned");
      const out = `s3://${BUCKET}/zarr/from-public.zarr`;
      const s = await convert(["s3://open-data/pub/*.nc"], { out, overwrite: true, executor: "inline" });
      assert.ok(s.bytesWritten > 0 && s.inputs.length === 1);
      await verify(["s3://open-data/pub/air.nc"], out);
      const writes = storeSeen.filter((q) => q.method === "PUT");
      assert.ok(writes.length > 3 && storeSeen.every((q) => q.signed), "signed at the local endpoint");
    } finally {
      useInputS3Settings(undefined);
      useS3Settings(undefined);
      await storeProxy.stop();
      await t.stop();
    }
  });
});
