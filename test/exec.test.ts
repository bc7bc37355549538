/**
 * Executors: the dispatcher's retry and failure policy, and the same conversion through inline,
 * threads and process giving byte-identical stores.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { convert } from "../lib/convert.js";
import { ConvertError, isConvertError } from "../lib/errors.js";
import { dispatch, toWire } from "../lib/exec/dispatch.js";
import { createExecutor, EXECUTOR_NAMES } from "../lib/exec/registry.js";
import type { TaskSpec } from "../lib/plan/types.js";
import { verify } from "../lib/verify.js";
import { PYTHON, PYTHON_MISSING, dailyArchive, python, tempDir } from "./helpers.js";
import { storeDifferences } from "./store-compare.js";

const task = (id: number): TaskSpec => ({ id, array: "/x", start: [id], count: [1] });
const ok = (id: number) => ({ ok: true as const, outcome: { id, chunksWritten: 1, chunksEmpty: 0, bytesWritten: 1, bytesRead: 1 } });

describe("dispatch", () => {
  test("a failure that may pass is retried, and the run goes on", async () => {
    const seen = new Map<number, number>();
    const outcomes = await dispatch([task(0), task(1), task(2)], async (t) => {
      const n = (seen.get(t.id) ?? 0) + 1;
      seen.set(t.id, n);
      if (t.id === 1 && n < 3) return { ok: false, error: { message: "worker exited with code 137", retryable: true } };
      return ok(t.id);
    }, { workers: 2 });
    assert.deepEqual(outcomes.map((o) => o.id).sort(), [0, 1, 2]);
    assert.equal(seen.get(1), 3);
  });

  test("after the last attempt the run fails, naming the task, the file and the cause", async () => {
    let calls = 0;
    await assert.rejects(
      dispatch([task(0), task(7)], async (t) => {
        calls++;
        if (t.id === 7) return { ok: false, error: { tag: "Unreadable", message: "EIO: i/o error, read", path: "/data/day7.nc", retryable: true } };
        return ok(t.id);
      }, { workers: 1, attempts: 3 }),
      (e) => isConvertError(e, "Unreadable") && e.path === "/data/day7.nc" &&
        e.message === "task 7 (/x[7:8]) failed after 3 attempts: EIO: i/o error, read",
    );
    assert.equal(calls, 4);
  });

  test("bad data is not retried", async () => {
    let calls = 0;
    const wire = toWire(new ConvertError("Corrupt", "cannot read variable /x: filter returned failure", "/f.nc"));
    assert.equal(wire.retryable, false);
    await assert.rejects(dispatch([task(3)], async () => (calls++, { ok: false, error: wire }), { workers: 1 }),
      /^ConvertError: task 3 \(\/x\[3:4\]\) failed: cannot read variable \/x: filter returned failure$/);
    assert.equal(calls, 1);
  });

  test("a worker that throws (crashed) counts as a retryable failure", async () => {
    let calls = 0;
    const out = await dispatch([task(0)], async () => {
      if (++calls === 1) throw new Error("Worker terminated unexpectedly");
      return ok(0);
    }, { workers: 1 });
    assert.equal(out.length, 1);
  });

  test("worker threads split a task: one read, its chunks encoded by whichever lanes are free, then one finish", async () => {
    const steps: string[] = [];
    const shared = { buffer: new SharedArrayBuffer(8), segments: 5 };
    let failedOnce = false;
    const outcomes = await dispatch([{ ...task(0), encoders: 2 }, task(1)], async (t, step) => {
      steps.push(`${t.id}:${step.kind}${step.kind === "encode" ? `[${step.from},${step.to})` : ""}`);
      const base = { id: t.id, chunksWritten: 0, chunksEmpty: 0, bytesWritten: 0, bytesRead: 0 };
      switch (step.kind) {
        case "read": return t.id === 0 ? { ok: true, outcome: { ...base, bytesRead: 100 }, shared } : ok(t.id);
        case "encode":
          assert.equal(step.shared, shared);
          if (step.from === 2 && !failedOnce) return (failedOnce = true), { ok: false, error: { message: "EIO", retryable: true } };
          return { ok: true, outcome: { ...base, chunksWritten: step.to - step.from - (step.from === 4 ? 1 : 0), chunksEmpty: step.from === 4 ? 1 : 0, bytesWritten: 10 * (step.to - step.from) } };
        case "finish": return { ok: true, outcome: step.outcome };
        default: throw new Error(`unexpected step ${step.kind}`);
      }
    }, { workers: 2, split: true });
    assert.deepEqual(outcomes.find((o) => o.id === 0), { id: 0, chunksWritten: 4, chunksEmpty: 1, bytesWritten: 50, bytesRead: 100 });
    assert.deepEqual(outcomes.map((o) => o.id).sort(), [0, 1]);
    assert.deepEqual(steps.filter((s) => s.startsWith("0:")).sort(),
      ["0:encode[0,2)", "0:encode[2,4)", "0:encode[2,4)", "0:encode[4,5)", "0:finish", "0:read"]);
    assert.equal(steps.indexOf("0:finish"), steps.length - 1, "finished after every chunk");
  });

  test("a finished block's memory is lent to the next read (V8 never frees shared memory passed between threads)", async () => {
    let made = 0;
    const lentTo = new Map<number, SharedArrayBuffer | undefined>();
    const tasks = [8, 6, 6, 4, 4, 2].map((n, id) => ({ id, array: "/x", start: [0], count: [n], encoders: 1 }));
    const outcomes = await dispatch(tasks, async (t, step) => {
      const base = { id: t.id, chunksWritten: 0, chunksEmpty: 0, bytesWritten: 0, bytesRead: 0 };
      if (step.kind === "read") {
        lentTo.set(t.id, step.memory);
        // As readShared: the lent memory when big enough, else a new block (and the lent one back).
        const fits = step.memory && step.memory.byteLength >= t.count[0]!;
        const buffer = fits ? step.memory! : (made++, new SharedArrayBuffer(t.count[0]!));
        return { ok: true, outcome: base, shared: { buffer, segments: 2 }, ...(step.memory && !fits && { unused: step.memory }) };
      }
      if (step.kind === "encode") return { ok: true, outcome: { ...base, chunksWritten: step.to - step.from } };
      if (step.kind === "finish") return { ok: true, outcome: step.outcome };
      throw new Error("unexpected");
    }, { workers: 2, split: true });
    assert.equal(outcomes.length, 6);
    assert.ok(outcomes.every((o) => o.chunksWritten === 2));
    assert.equal(made, 2, "one block per lane, then reuse");
    assert.equal(lentTo.get(0), undefined);
    assert.ok([2, 3, 4, 5].every((id) => lentTo.get(id) instanceof SharedArrayBuffer), "later reads are lent a finished block");
  });

  test("without shared memory (processes, containers) tasks run whole", async () => {
    const kinds: string[] = [];
    await dispatch([task(0), task(1)], async (t, step) => (kinds.push(step.kind), ok(t.id)), { workers: 2 });
    assert.deepEqual(kinds, ["task", "task"]);
  });

  test("a pool started beside the open is closed when the open fails", async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === "MessagePort").length;
    const before = ports();
    await assert.rejects(convert(["/nonexistent/day1.nc"], { out: "/nonexistent/out.zarr", executor: "threads", workers: 2 }),
      (e) => isConvertError(e, "NotFound") && e.message === "no such file");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ports(), before, "no worker threads left");
  });

  test("every registered executor name can be created", async () => {
    for (const name of EXECUTOR_NAMES) {
      const ex = await createExecutor(name);
      assert.equal(ex.name, name);
      await ex.close();
    }
    await assert.rejects(createExecutor("pywren"), /unknown executor pywren \(choose inline, threads, process, ecs\)/);
  });
});

describe("executors give byte-identical stores", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("exec");
  let days: string[] = [];
  before(() => {
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "4", "--nlat", "37", "--nlon", "48"]);
  });
  after(() => tmp.cleanup());

  for (const format of [2, 3] as const) {
    test(`inline, threads and process (Zarr v${format}, chunks straddling source chunks, small budget)`, async () => {
      const stores: string[] = [];
      // The ecs executor writes the same stores from S3 to S3: test/ecs.test.ts.
      for (const executor of ["inline", "threads", "process"] as const) {
        const out = join(tmp.dir, `${executor}.v${format}.zarr`);
        // time=36 straddles the 24-hour files; 4 MB forces several tasks and some re-decoding.
        const s = await convert(days, { out, zarrFormat: format, executor, workers: 2, chunks: { time: 36, lat: 10, lon: 16 }, maxMem: 600_000 });
        assert.equal(s.executor, executor);
        assert.ok(s.tasks > 4, `several tasks (${s.tasks})`);
        stores.push(out);
      }
      assert.deepEqual(storeDifferences(stores[0]!, stores[1]!), []);
      assert.deepEqual(storeDifferences(stores[0]!, stores[2]!), []);
      const r = await verify(days, stores[2]!);
      assert.equal(r.values, 96 * 37 * 48 * 2 + 96 + 37 + 48);
    });
  }
});

describe("the pool started beside the open", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("early");
  after(() => tmp.cleanup());

  test("is closed when the run stops before using it (the output exists)", async () => {
    const days = dailyArchive(join(tmp.dir, "days"), ["--days", "2", "--nlat", "19", "--nlon", "24"]);
    const out = join(tmp.dir, "taken.zarr");
    await convert(days, { out, executor: "inline" });
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === "MessagePort").length;
    const before = ports();
    await assert.rejects(convert(days, { out, executor: "threads", workers: 2 }), (e) => isConvertError(e, "OutputExists"));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ports(), before, "no worker threads left");
  });
});

describe("--codec copy", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("copy");
  let days: string[] = [];
  before(() => {
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "3", "--nlat", "19", "--nlon", "24"]);
  });
  after(() => tmp.cleanup());

  for (const format of [2, 3] as const) {
    test(`compressed chunks are copied byte for byte, and the store verifies (v${format})`, async () => {
      const out = join(tmp.dir, `copy.v${format}.zarr`);
      const s = await convert(days, { out, zarrFormat: format, codec: "copy" });
      const t2m = s.arrays.find((a) => a.path === "/T2M")!;
      assert.deepEqual([t2m.shape, t2m.chunks, t2m.chunksWritten], [[72, 19, 24], [24, 19, 24], 3]);
      await verify(days, out);
      // The second day's T2M chunk in the store is exactly HDF5's stored chunk (h5py read_direct_chunk).
      const key = format === 2 ? join(out, "T2M", "1.0.0") : join(out, "T2M", "c", "1", "0", "0");
      const code = "import h5py, sys; f = h5py.File(sys.argv[1]); m, b = f['T2M'].id.read_direct_chunk((0, 0, 0)); sys.stdout.buffer.write(b)";
      const r = spawnSync(PYTHON, ["-c", code, days[1]!], { maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, String(r.stderr));
      assert.ok(readFileSync(key).equals(r.stdout), "identical bytes");
      const meta = readFileSync(join(out, format === 2 ? "T2M/.zarray" : "T2M/zarr.json"), "utf8");
      if (format === 2) assert.match(meta.replace(/\s/g, ""), /"filters":\[\{"id":"shuffle","elementsize":4\}\],"compressor":\{"id":"zlib","level":4\}/);
      else assert.match(meta.replace(/\s/g, ""), /"codecs":\[\{"name":"bytes".*\{"name":"numcodecs.shuffle","configuration":\{"elementsize":4\}\},\{"name":"numcodecs.zlib","configuration":\{"level":4\}\}\]/);
    });
  }

  test("zarr-python 2 and xarray read the copied v2 store equal to the sources", () => {
    const [x] = python("compare_xarray.py", [join(tmp.dir, "copy.v2.zarr"), ...days, "--concat-dim", "time"]) as { ok: boolean; differences: string[] }[];
    assert.deepEqual(x!.differences, []);
  });

  test("arrays that cannot be copied are re-encoded, with the reason in the plan", async () => {
    const { planConversion } = await import("../lib/convert.js");
    const p = await planConversion(days, { out: join(tmp.dir, "p.zarr"), codec: "copy", chunks: { lat: 10 } });
    assert.deepEqual(p.job.copy, []);
    assert.deepEqual(p.notCopied.find((n) => n.path === "/T2M"), { path: "/T2M", reason: "target chunks (24, 10, 24) differ from the source's (24, 19, 24)" });
    assert.equal(p.notCopied.find((n) => n.path === "/lat")!.reason, "it is stored contiguously");
  });
});
