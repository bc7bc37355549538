/**
 * The ECS executor end to end without an AWS account: the real ECS SDK talks to the local ECS
 * endpoint (lib/ecslocal), which runs each task's container command — the worker entry point — as a
 * local process with the overrides' environment, against the local S3 endpoint.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ECSClient, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { convert } from "../lib/convert.js";
import { cleanUp } from "../lib/notebook/session.js";
import { startLocalEcs, type LocalEcs } from "../lib/ecslocal/server.js";
import { resolveEcsSettings } from "../lib/exec/ecs/config.js";
import { estimateEcsCost, formatCostEstimate } from "../lib/exec/ecs/cost.js";
import { RUNS_PREFIX, statusKey, taskOfKey } from "../lib/exec/ecs/protocol.js";
import type { ExecEvent } from "../lib/exec/types.js";
import { FsStore } from "../lib/store/fs.js";
import { LOCAL_CREDENTIALS } from "../lib/store/s3-config.js";
import { verify } from "../lib/verify.js";
import { hasNativeZstd } from "../lib/zarr/codecs.js";
import { PYTHON_MISSING, ROOT, cli, cliAsync, dailyArchive, tempDir } from "./helpers.js";
import { BUCKET, contents, differences, startTestS3, type TestS3 } from "./s3-helpers.js";

const CLUSTER = "convert-to-zarr";
const WORKER = [process.execPath, join(ROOT, "dist/lib/worker/ecs-main.js")];
const CHUNKS = { time: 48, lat: 16, lon: 16 };
const CHUNK_ARGS = ["--chunks", "time=48,lat=16,lon=16", "--max-mem", "4MB"];
/** Quick polling, so the tests do not wait on AWS-sized intervals. */
const FAST = { pollSeconds: 0.1, livenessSeconds: 0.3 };

describe("ECS executor on the local ECS endpoint", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("ecs");
  let t: TestS3;
  let ecs: LocalEcs;
  let urls: string[];
  let days: string[];
  let local: Map<string, Buffer>;
  const pool = (taskDefinition = "worker") => ({ endpoint: ecs.endpoint, cluster: CLUSTER, taskDefinition, ...FAST });
  const env = (taskDefinition = "worker", extra: Record<string, unknown> = {}) =>
    ({ ...t.env, AWS_ENDPOINT_URL_ECS: ecs.endpoint, CONVERT_TO_ZARR_ECS: JSON.stringify({ cluster: CLUSTER, taskDefinition, ...FAST, ...extra }) });
  /**
   * Runs `run` while watching the store: `act` is applied once, to the first worker seen holding a
   * claim without a status (so it is inside a task).
   */
  async function onFirstBusyWorker(store: ReturnType<TestS3["store"]>, act: (worker: string) => unknown, run: () => Promise<void>): Promise<{ worker: string | undefined }> {
    let worker: string | undefined;
    const hunter = setInterval(async () => {
      for await (const key of store.list(RUNS_PREFIX)) {
        if (!key.includes("/claims/") || worker) continue;
        if (await store.has(statusKey(key.split("/")[3]!, taskOfKey(key)))) continue;
        const claim = await store.get(key);
        if (!claim || worker) continue;
        worker = (JSON.parse(new TextDecoder().decode(claim)) as { worker: string }).worker;
        await act(worker);
      }
    }, 15);
    try {
      await run();
    } finally {
      clearInterval(hunter);
    }
    return { worker };
  }
  const runTasks = (startedBy: string) => ecs.tasks().filter((x) => x.startedBy === startedBy);
  const startedByOf = () => ecs.calls().filter((c) => c.op === "RunTask").at(-1)!.body.startedBy as string;

  before(async () => {
    t = await startTestS3();
    ecs = await startLocalEcs({
      cluster: CLUSTER,
      taskDefinitions: [
        { family: "worker", containerName: "worker", command: WORKER, environment: { ...t.env }, cwd: tmp.dir },
        // A container that dies at start, whatever it is given.
        { family: "broken", containerName: "worker", command: [process.execPath, "-e", "process.exit(3)"] },
        // The worker image's files, assembled by following infra/worker/Dockerfile (see buildImageDir).
        { family: "image", containerName: "worker", command: [process.execPath, join(tmp.dir, "image", "dist/lib/worker/ecs-main.js")], environment: { ...t.env }, cwd: join(tmp.dir, "image") },
        // One that runs until stopped.
        { family: "sleeper", containerName: "worker", command: [process.execPath, "-e", "setInterval(() => {}, 1000)"] },
      ],
    });
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "6", "--nlat", "91", "--nlon", "144"]);
    urls = await t.upload(days, "ecs-in");
    const out = join(tmp.dir, "local.zarr");
    assert.equal(cli(["convert", ...days, "--out", out, "-q", ...CHUNK_ARGS]).status, 0);
    local = await contents(new FsStore(out));
  });
  after(async () => {
    await ecs?.close();
    await t?.stop();
    tmp.cleanup();
  });

  test("the CLI converts on 12 workers started 10 + 2 per RunTask call; the store verifies and equals the local conversion", async () => {
    const out = `s3://${BUCKET}/ecs/cli.zarr`;
    const r = await cliAsync(["convert", ...urls, "--out", out, ...CHUNK_ARGS, "--executor", "ecs", "--workers", "12"], { env: env() });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.match(lines[0]!, /^convert-to-zarr: estimated cost: 12 workers × ~1\.0 min = 1441 vCPU-s, 2881 GB-s, \d+ PUT \+ ~\d+ GET requests ≈ \$0\.\d{4} — us-east-1/);
    assert.ok(lines.includes("convert-to-zarr: started 12 ECS workers (12 running)"), r.stderr);
    assert.match(r.stdout, /\(14 tasks, ecs x 12,/);

    const runs = ecs.calls().filter((c) => c.op === "RunTask");
    const startedBy = runs.at(-1)!.body.startedBy as string;
    const mine = runs.filter((c) => c.body.startedBy === startedBy);
    assert.deepEqual(mine.map((c) => c.body.count), [10, 2]);
    assert.equal(new Set(mine.map((c) => c.body.clientToken)).size, 2, "one idempotency token per call");
    // Overrides name the run by reference only: the store and run id, never task data.
    const env0 = mine[0]!.body.overrides.containerOverrides[0].environment as { name: string; value: string }[];
    assert.deepEqual(env0.map((e) => e.name).sort(), ["CONVERT_TO_ZARR_RUN_ID", "CONVERT_TO_ZARR_STORE", "CONVERT_TO_ZARR_WORKER_TIMEOUT_S"]);
    assert.ok(JSON.stringify(mine[0]!.body.overrides).length < 8192);

    const workers = runTasks(startedBy);
    assert.equal(workers.length, 12);
    for (const w of workers) {
      assert.equal(w.lastStatus, "STOPPED");
      assert.equal(w.exitCode, 0, w.log.join("\n"));
      assert.equal(w.environment.CONVERT_TO_ZARR_STORE, out);
    }
    // Every task ran exactly once, on some worker; the logs are JSON lines a metric filter can count.
    const done = workers.flatMap((w) => w.log.map((l) => JSON.parse(l) as { event: string; task?: number })).filter((e) => e.event === "task-done");
    assert.deepEqual(done.map((e) => e.task).sort((a, b) => a! - b!), [...Array(14).keys()]);

    assert.deepEqual(differences(await contents(t.store(out)), local), [], "byte-identical to the local conversion, run state removed");
    const v = await cliAsync(["verify", ...urls, out], { env: t.env });
    assert.equal(v.status, 0, v.stderr);
  });

  test("a worker killed mid-task: its claimed tasks are resubmitted, and the store still equals the local conversion", async () => {
    const out = `s3://${BUCKET}/ecs/killed.zarr`;
    const store = t.store(out);
    const events: ExecEvent[] = [];
    const { worker: victim } = await onFirstBusyWorker(store, (w) => ecs.kill(w), async () => {
      const s = await convert(urls, { out, chunks: CHUNKS, maxMem: 4e6, executor: "ecs", workers: 3, ecs: pool(), onEvent: (e) => events.push(e) });
      assert.equal(s.tasks, 14);
    });
    assert.ok(victim, "a worker was killed");
    const killed = ecs.tasks().find((x) => x.taskArn === victim)!;
    assert.equal(killed.exitCode, 137);
    const stopped = events.find((e) => e.type === "worker-stopped");
    assert.ok(stopped && stopped.type === "worker-stopped");
    assert.equal(stopped.worker, victim);
    assert.equal(stopped.exitCode, 137);
    assert.match(stopped.reason, /OutOfMemoryError/);
    assert.ok(stopped.resubmitted.length >= 1, "its unfinished task went back to the pool");
    assert.ok(events.filter((e) => e.type === "workers-started").length >= 2, "a replacement worker was started");
    assert.deepEqual(differences(await contents(store), local), []);
    await verify(urls, out);
  });

  test("a worker told to stop (SIGTERM, as StopTask or a Spot reclaim) finishes its task, takes no other, and exits 0; the run completes", async () => {
    const out = `s3://${BUCKET}/ecs/graceful.zarr`;
    const store = t.store(out);
    const client = new ECSClient({ endpoint: ecs.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
    const { worker: stopped } = await onFirstBusyWorker(
      store,
      (w) => client.send(new StopTaskCommand({ cluster: CLUSTER, task: w, reason: "Your Spot Task was interrupted." })),
      async () => {
        const s = await convert(urls, { out, chunks: CHUNKS, maxMem: 4e6, executor: "ecs", workers: 2, ecs: pool() });
        assert.equal(s.tasks, 14);
      },
    ).finally(() => client.destroy());
    assert.ok(stopped);
    const w = ecs.tasks().find((x) => x.taskArn === stopped)!;
    await waitFor(() => w.lastStatus === "STOPPED");
    assert.equal(w.exitCode, 0, w.log.join("\n"));
    assert.equal(w.stoppedReason, "Your Spot Task was interrupted.");
    const events = w.log.map((l) => JSON.parse(l) as { event: string; reason?: string });
    assert.ok(events.some((e) => e.event === "worker-stopping"));
    assert.deepEqual(events.at(-1)!.event === "worker-end" && events.at(-1)!.reason, "stopped");
    assert.ok(events.filter((e) => e.event === "task-done").length >= 1, "the task in hand was finished");
    assert.deepEqual(differences(await contents(store), local), []);
  });

  test("appending new days on ECS (as the notebook does on AWS) equals converting all the days at once", async () => {
    const out = `s3://${BUCKET}/ecs/appended.zarr`;
    // Task sizes do not change chunk bytes: the default budget here, 4 MB for the local reference.
    const first = await convert(urls.slice(0, 4), { out, chunks: CHUNKS, executor: "ecs", workers: 2, ecs: pool() });
    assert.equal(first.mode, "create");
    const appended = await convert(urls.slice(4), { out, append: true, executor: "ecs", workers: 2, ecs: pool() });
    assert.equal(appended.mode, "append");
    assert.equal(appended.executor, "ecs");
    assert.deepEqual(differences(await contents(t.store(out)), local), []);
  });

  test("cancelling stops every worker of the run; --resume on ECS finishes the store", async () => {
    const out = `s3://${BUCKET}/ecs/cancelled.zarr`;
    const ac = new AbortController();
    let done = 0;
    const run = convert(urls, {
      out, chunks: CHUNKS, maxMem: 4e6, executor: "ecs", workers: 2, ecs: pool(), signal: ac.signal,
      onProgress: (p) => {
        done = p.tasksDone;
        if (done >= 1) ac.abort();
      },
    });
    await assert.rejects(run, /cancelled/);
    const startedBy = startedByOf();
    await waitFor(() => runTasks(startedBy).every((w) => w.lastStatus === "STOPPED"));
    assert.ok(runTasks(startedBy).some((w) => w.stopCode === "UserInitiated" && w.stoppedReason === "convert-to-zarr: run cancelled"));
    const listed = ecs.calls().filter((c) => c.op === "ListTasks" && c.body.startedBy === startedBy);
    assert.equal(listed.length, 1, "cancel asks ECS for every worker of the run");

    const r = await cliAsync(["convert", ...urls, "--out", out, ...CHUNK_ARGS, "--executor", "ecs", "--workers", "2", "--resume", "-q", "--json"], { env: env() });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { mode: string; tasksSkipped: number };
    assert.equal(summary.mode, "resume");
    assert.ok(summary.tasksSkipped >= 1, "the cancelled run's finished tasks count");
    assert.deepEqual(differences(await contents(t.store(out)), local), []);
  });

  test("workers that die at start fail the run with one line, after a bounded number of replacements", async () => {
    const out = `s3://${BUCKET}/ecs/broken.zarr`;
    const r = await cliAsync(["convert", ...urls, "--out", out, ...CHUNK_ARGS, "--executor", "ecs", "--workers", "2", "-q"], { env: env("broken", { logGroup: "/c2z/workers" }) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^convert-to-zarr: workers keep stopping with 14 tasks unfinished; last: worker [0-9a-f]{32} stopped \(Essential container in task exited, exit code 3\); its log: \/c2z\/workers, stream worker\/worker\/[0-9a-f]{32}\n$/);
    const workers = runTasks(startedByOf());
    assert.ok(workers.length >= 2 && workers.length <= 6, `2 workers × 3 attempts at most, got ${workers.length}`);
    assert.ok(workers.every((w) => w.lastStatus === "STOPPED"));
    // The failed run keeps its state for --resume, marked incomplete: nothing looks finished.
    assert.equal(await t.store(out).has("/zarr.json"), false);
  });

  test("local inputs or output are refused before any worker starts", async () => {
    const before = ecs.calls().length;
    const r = await cliAsync(["convert", days[0]!, "--out", join(tmp.dir, "x.zarr"), "--executor", "ecs", "-q"], { env: env() });
    assert.equal(r.status, 2, "a usage error");
    assert.match(r.stderr, /^convert-to-zarr: .*: the ecs executor runs in containers: its inputs and output must be s3:\/\/ URLs\n$/);
    assert.equal(ecs.calls().length, before);
    assert.equal(existsSync(join(tmp.dir, "x.zarr")), false, "nothing written");
  });

  test("the local ECS endpoint answers like ECS: at most 10 tasks per call, unknown task definitions refused", async () => {
    const client = new ECSClient({ endpoint: ecs.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      await assert.rejects(client.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "worker", count: 11 })), (e: Error) => e.name === "InvalidParameterException");
      await assert.rejects(client.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "nope" })), (e: Error) => e.name === "ClientException" && /nope/.test(e.message));
      await assert.rejects(client.send(new RunTaskCommand({ cluster: "other", taskDefinition: "worker" })), (e: Error) => e.name === "ClusterNotFoundException");
    } finally {
      client.destroy();
    }
  });

  test("the notebook's clean-up stops every convert-to-zarr worker left running on the cluster, and nothing else", async () => {
    const client = new ECSClient({ endpoint: ecs.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
    const start = async (startedBy: string) =>
      (await client.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "sleeper", startedBy }))).tasks![0]!.taskArn!;
    const orphan = await start("c2z-0123456789ab-lost-run");
    const foreign = await start("someone-else");
    await waitFor(() => ecs.tasks().filter((x) => x.taskArn === orphan || x.taskArn === foreign).every((x) => x.lastStatus === "RUNNING"));
    const saved = { ecs: process.env.CONVERT_TO_ZARR_ECS, endpoint: process.env.AWS_ENDPOINT_URL_ECS };
    process.env.CONVERT_TO_ZARR_ECS = JSON.stringify({ cluster: CLUSTER, taskDefinition: "worker" });
    process.env.AWS_ENDPOINT_URL_ECS = ecs.endpoint;
    try {
      await t.store(`s3://${BUCKET}/nb`).set("/a", new Uint8Array([1]));
      const message = await cleanUp({ mode: "aws", base: `s3://${BUCKET}/nb`, stack: { bucket: BUCKET, cluster: CLUSTER }, describe: "" });
      assert.equal(message, `stopped 1 ECS worker; deleted 1 objects under s3://${BUCKET}/nb`);
    } finally {
      for (const [k, v] of [["CONVERT_TO_ZARR_ECS", saved.ecs], ["AWS_ENDPOINT_URL_ECS", saved.endpoint]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await waitFor(() => ecs.tasks().find((x) => x.taskArn === orphan)!.lastStatus === "STOPPED");
    const stopped = ecs.tasks().find((x) => x.taskArn === orphan)!;
    assert.equal(stopped.stoppedReason, "convert-to-zarr: clean-up");
    assert.equal(ecs.tasks().find((x) => x.taskArn === foreign)!.lastStatus, "RUNNING");
    await client.send(new StopTaskCommand({ cluster: CLUSTER, task: foreign }));
    client.destroy();
  });

  test("`ecs-local` serves the pool to `plan` and `convert --executor ecs` through its state file, and removes it when stopped", async () => {
    const state = join(tmp.dir, "ecs-local.json");
    const e = { ...t.env, CONVERT_TO_ZARR_ECS_LOCAL_STATE: state, HOME: tmp.dir };
    const server = spawn(process.execPath, [join(ROOT, "bin/convert-to-zarr"), "ecs-local"], { env: { ...process.env, ...e }, stdio: ["ignore", "pipe", "pipe"] });
    const line = await new Promise<string>((resolve, reject) => {
      server.stdout.once("data", (d: Buffer) => resolve(d.toString()));
      server.once("exit", (code) => reject(new Error(`ecs-local exited ${code}`)));
    });
    try {
      assert.match(line, /^local ECS endpoint http:\/\/127\.0\.0\.1:\d+ \(cluster convert-to-zarr, task definition convert-to-zarr-worker; workers use S3 at endpoint http:\/\/127\.0\.0\.1:\d+\); Ctrl-C stops it\n$/);
      const plan = await cliAsync(["plan", ...urls, "--out", `s3://${BUCKET}/ecs/local.zarr`, ...CHUNK_ARGS, "--executor", "ecs", "--workers", "4"], { env: e });
      assert.equal(plan.status, 0, plan.stderr);
      assert.match(plan.stdout, /\nestimated cost: 4 workers × ~1\.0 min = 481 vCPU-s, 961 GB-s, .*; pool from local ECS endpoint http:\/\/127\.0\.0\.1:\d+ \(2 vCPU, 4 GiB, X86_64\)\n$/);
      const out = `s3://${BUCKET}/ecs/local.zarr`;
      const r = await cliAsync(["convert", ...urls, "--out", out, ...CHUNK_ARGS, "--executor", "ecs", "--workers", "2", "-q"], { env: e });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(differences(await contents(t.store(out)), local), []);
    } finally {
      server.kill("SIGINT");
      await new Promise((resolve) => server.once("exit", resolve));
    }
    assert.equal(existsSync(state), false, "the state file goes with the endpoint");
  });

  test("the worker image as infra/worker/Dockerfile builds it (its COPY and RUN steps, without Docker) runs the workers", async () => {
    const image = buildImageDir(join(tmp.dir, "image"));
    assert.deepEqual(readdirSync(image.dir).sort(), ["dist", "node_modules", "package-lock.json", "package.json"]);
    assert.ok(!existsSync(join(image.dir, "node_modules", "typescript")), "no development dependencies");
    const out = `s3://${BUCKET}/ecs/image.zarr`;
    const s = await convert(urls, { out, chunks: CHUNKS, maxMem: 4e6, executor: "ecs", workers: 2, ecs: { ...pool("image") } });
    assert.equal(s.tasks, 14);
    // The image's install skips build scripts, so it has no zstd addon: on Node < 22.15 its workers
    // encode with numcodecs' WASM zstd, whose bytes differ from libzstd's; compare like with like.
    let expected = local;
    if (!hasNativeZstd) {
      const wasm = join(tmp.dir, "local-wasm.zarr");
      assert.equal(cli(["convert", ...days, "--out", wasm, "-q", ...CHUNK_ARGS], { env: { CONVERT_TO_ZARR_ZSTD_ADDON: "0" } }).status, 0);
      expected = await contents(new FsStore(wasm));
    }
    assert.deepEqual(differences(await contents(t.store(out)), expected), []);
    assert.ok(ecs.tasks().filter((x) => x.family === "image").every((x) => x.exitCode === 0));
  });

  test("the worker entry point without its run says so in one JSON line and exits 2", () => {
    const w = spawnSync(process.execPath, [WORKER[1]!], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...t.env } });
    assert.equal(w.status, 2);
    assert.match(w.stdout, /^\{"event":"worker-error",.*"message":"CONVERT_TO_ZARR_STORE and CONVERT_TO_ZARR_RUN_ID must be set"\}\n$/);
  });
});

describe("ECS settings and cost", () => {
  const tmp = tempDir("ecs-config");
  after(() => tmp.cleanup());

  test("the pool comes from CONVERT_TO_ZARR_ECS over the stack's config file; none at all is one clear error", async () => {
    const file = join(tmp.dir, "stack.json");
    writeFileSync(file, JSON.stringify({ bucket: "b-1", cluster: "c1", taskDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/w:3", subnets: ["subnet-1"], securityGroups: ["sg-1"], vcpu: 4, memoryGiB: 8, region: "eu-west-1" }));
    const base = { HOME: tmp.dir, CONVERT_TO_ZARR_STACK_CONFIG: file };
    const s = await resolveEcsSettings({}, base);
    assert.deepEqual([s.cluster, s.taskDefinition, s.subnets, s.securityGroups, s.vcpu, s.memoryGiB, s.region, s.containerName, s.maxWorkers],
      ["c1", "arn:aws:ecs:eu-west-1:1:task-definition/w:3", ["subnet-1"], ["sg-1"], 4, 8, "eu-west-1", "worker", 16]);
    assert.equal(s.source, "the stack config file");
    const o = await resolveEcsSettings({ maxWorkers: 2 }, { ...base, CONVERT_TO_ZARR_ECS: '{"cluster":"c2","spot":true}' });
    assert.deepEqual([o.cluster, o.taskDefinition, o.spot, o.maxWorkers], ["c2", "arn:aws:ecs:eu-west-1:1:task-definition/w:3", true, 2]);
    await assert.rejects(resolveEcsSettings({}, { HOME: tmp.dir }), /^ConvertError: no ECS worker pool configured: deploy the stack \(README, "Deploy on AWS"\)/);
    writeFileSync(file, JSON.stringify({ bucket: "b", vcpu: "two" }));
    await assert.rejects(resolveEcsSettings({}, base), (e: Error & { path?: string }) => e.path === file && e.message === "stack config: vcpu: Invalid input: expected number, received string");
  });

  test("the cost estimate: vCPU- and GB-seconds with the one-minute minimum, requests, dollars", () => {
    const pool = { vcpu: 2, memoryGiB: 4, architecture: "X86_64" as const, spot: false };
    const big = estimateEcsCost({ tasks: 10, objects: 100, bytesRead: 4.8e9 }, pool, 4);
    // 4.8 GB / (40 MB/s × 2 vCPU × 4 workers) = 15 s of work + 60 s start.
    assert.equal(big.secondsPerWorker, 75);
    assert.equal(big.vcpuSeconds, 600);
    assert.equal(big.gbSeconds, 1200);
    assert.equal(big.putRequests, 121);
    assert.equal(big.getRequests, 18311 + 38);
    assert.ok(Math.abs(big.dollars - ((600 * 0.04048 + 1200 * 0.004445) / 3600 + (121 * 0.005 + 18349 * 0.0004) / 1000)) < 1e-12);
    const priced = estimateEcsCost({ tasks: 10, objects: 100, bytesRead: 4.8e9 }, { ...pool, pricing: { vcpuHour: 0.05, gbHour: 0.005, source: "eu-central-1" } }, 4);
    assert.ok(Math.abs(priced.dollars - ((600 * 0.05 + 1200 * 0.005) / 3600 + (121 * 0.005 + 18349 * 0.0004) / 1000)) < 1e-12);
    assert.match(formatCostEstimate(priced), / — Fargate at \$0\.05\/vCPU-h and \$0\.005\/GB-h \(eu-central-1\), S3 requests at us-east-1 list prices$/);
    const small = estimateEcsCost({ tasks: 1, objects: 1, bytesRead: 1000 }, { ...pool, architecture: "ARM64", spot: true }, 1);
    assert.equal(small.secondsPerWorker, 60.0000125);
    assert.match(formatCostEstimate(small), /^estimated cost: 1 worker × ~1\.0 min = 120 vCPU-s, 240 GB-s, 4 PUT \+ ~32 GET requests ≈ \$0\.00\d\d \(Fargate Spot: up to 70% less compute\)/);
  });
});

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Follows the worker's Dockerfile without Docker: its COPY steps from the repository, and its
 * `npm ci` (from the npm cache when it can), into `dir`; returns the ENTRYPOINT's script.
 */
function buildImageDir(dir: string): { dir: string; entry: string } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let entry = "";
  for (const line of readFileSync(join(ROOT, "infra/worker/Dockerfile"), "utf8").split("\n")) {
    const [op, ...args] = line.trim().split(/\s+/);
    if (op === "COPY") {
      const dest = join(dir, args.at(-1)!);
      for (const src of args.slice(0, -1)) cpSync(join(ROOT, src), args.at(-1)!.endsWith("/") ? join(dest, basename(src)) : dest, { recursive: true });
    } else if (op === "RUN") {
      // Only the install; "npm cache clean" would empty this machine's cache.
      const install = line.trim().slice(4).split("&&")[0]!.trim().split(/\s+/);
      assert.deepEqual(install.slice(0, 2), ["npm", "ci"]);
      const r = spawnSync("npm", [...install.slice(1), "--prefer-offline"], { cwd: dir, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    } else if (op === "ENTRYPOINT") {
      entry = (JSON.parse(line.trim().slice("ENTRYPOINT".length)) as string[])[1]!;
    }
  }
  assert.equal(entry, "dist/lib/worker/ecs-main.js");
  return { dir, entry };
}
