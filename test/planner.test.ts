/**
 * The planner, tested like arithmetic: over random shapes, chunkings, source grids and budgets,
 * every target chunk is written by exactly one task, every task fits the budget, and the reported
 * read amplification is what a brute-force count of decodes gives.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { isConvertError } from "../lib/errors.js";
import { planArray, planJob, taskMemory } from "../lib/plan/planner.js";
import { parseBytes } from "../lib/plan/sizes.js";
import type { ArrayInput, SourceAxis } from "../lib/plan/types.js";

const MiB = 2 ** 20, GiB = 2 ** 30;

/** An axis of length n split into source chunks: regular, irregular (files), or contiguous. */
const sourceAxis = (n: number): fc.Arbitrary<SourceAxis> =>
  fc.oneof(
    fc.constant(null),
    fc.integer({ min: 1, max: Math.max(1, n) }).map((c) => {
      const out: number[] = [];
      for (let s = 0; s < n; s += c) out.push(Math.min(c, n - s));
      return out;
    }),
    fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 12 }).map((lens) => {
      const out: number[] = [];
      let s = 0;
      for (let i = 0; s < n; i++) {
        const l = Math.min(lens[i % lens.length]!, n - s);
        out.push(l);
        s += l;
      }
      return out;
    }),
  );

const arrayInput: fc.Arbitrary<ArrayInput> = fc
  .array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({
      path: fc.constant("/v"),
      shape: fc.constant(shape),
      chunks: fc.tuple(...shape.map((n) => fc.integer({ min: 1, max: n + 3 }))),
      itemSize: fc.constantFrom(1, 2, 4, 8),
      source: fc.tuple(...shape.map(sourceAxis)),
    }),
  );

/**
 * Brute force: each source cell (over the chunked axes; contiguous axes are read in pieces and never
 * decoded twice) is decoded once per distinct block position that overlaps it. Weighted by cell size.
 */
function bruteAmplification(a: ArrayInput, tasks: { start: number[]; count: number[] }[]): number {
  const chunked = a.shape.map((_, i) => i).filter((i) => a.source[i] !== null);
  const intervals = chunked.map((i) => {
    const out: [number, number][] = [];
    let s = 0;
    for (const len of a.source[i]!) out.push([s, (s += len)]);
    return out;
  });
  let weighted = 0, total = 0;
  const idx = intervals.map(() => 0);
  for (;;) {
    const cell = idx.map((k, j) => intervals[j]![k]!);
    const size = cell.reduce((p, [lo, hi]) => p * (hi - lo), 1);
    const positions = new Set(
      tasks
        .filter((t) => cell.every(([lo, hi], j) => t.start[chunked[j]!]! < hi && t.start[chunked[j]!]! + t.count[chunked[j]!]! > lo))
        .map((t) => chunked.map((i) => t.start[i]).join(",")),
    );
    weighted += positions.size * size;
    total += size;
    let j = idx.length - 1;
    for (; j >= 0; j--) {
      if (++idx[j]! < intervals[j]!.length) break;
      idx[j] = 0;
    }
    if (j < 0) break;
  }
  return total ? weighted / total : 1;
}

describe("planner memory model", () => {
  test("a task holds its block, plus the larger of reading (a source chunk twice) and encoding (two chunk buffers per encoder)", () => {
    const a: ArrayInput = { path: "/v", shape: [100, 10], chunks: [10, 10], itemSize: 4, source: [Array(10).fill(10), null] };
    const chunk = 10 * 10 * 4, block = 20 * 10 * 4;
    assert.equal(taskMemory(a, [20, 10], 2), block + 2 * 2 * chunk);
    assert.equal(taskMemory(a, [20, 10], 1), block + 2 * chunk);
    // Source chunks four times a target chunk's size: reading is the larger phase.
    const big: ArrayInput = { ...a, source: [Array(2).fill(50), null], chunks: [5, 10] };
    assert.equal(taskMemory(big, [50, 10], 2), 50 * 10 * 4 + 2 * 50 * 10 * 4);
  });
});

describe("planner properties", () => {
  test("every target chunk is written by exactly one task; tasks are whole chunks; memory within budget; amplification as reported", () => {
    fc.assert(
      fc.property(arrayInput, fc.integer({ min: 1, max: 64 }), (a, budgetKiB) => {
        const budget = budgetKiB * 1024;
        let planned;
        try {
          planned = planArray(a, budget);
        } catch (e) {
          // Refused only when one target chunk cannot fit, and the message says so with numbers.
          assert.ok(isConvertError(e, "Usage"));
          assert.match(e.message, /one target chunk \(.*\) needs .* per task .* more than --max-mem/);
          assert.ok(taskMemory(a, a.chunks.map((c, i) => Math.min(c, a.shape[i]!))) > budget);
          return;
        }
        const { plan, tasks } = planned;
        const grid = a.shape.map((n, i) => Math.ceil(n / a.chunks[i]!));
        const written = new Map<string, number>();
        for (const t of tasks) {
          t.start.forEach((s, i) => assert.equal(s % a.chunks[i]!, 0, "tasks start on chunk boundaries"));
          t.count.forEach((c, i) => assert.ok(c % a.chunks[i]! === 0 || t.start[i]! + c === a.shape[i], "tasks end on chunk boundaries or the array's end"));
          assert.ok(taskMemory(a, t.count, t.encoders) <= budget, "task fits the budget");
          const ranges = t.start.map((s, i) => [s / a.chunks[i]!, Math.ceil((s + t.count[i]!) / a.chunks[i]!)] as const);
          const idx = ranges.map(([lo]) => lo);
          for (;;) {
            const key = idx.join(",");
            written.set(key, (written.get(key) ?? 0) + 1);
            let ax = idx.length - 1;
            for (; ax >= 0; ax--) {
              if (++idx[ax]! < ranges[ax]![1]) break;
              idx[ax] = ranges[ax]![0];
            }
            if (ax < 0) break;
          }
        }
        assert.equal(written.size, grid.reduce((p, n) => p * n, 1), "every chunk written");
        assert.ok([...written.values()].every((n) => n === 1), "no chunk written twice");
        assert.equal(plan.objects, written.size);
        assert.ok(plan.peakTaskBytes <= budget);
        const brute = bruteAmplification(a, tasks);
        assert.ok(Math.abs(brute - plan.readAmplification) < 1e-9, `amplification ${plan.readAmplification} vs brute force ${brute}`);
      }),
      { numRuns: 400, seed: 20261123 },
    );
  });

  test("appending writes exactly the chunk rows from the stored length on", () => {
    fc.assert(
      fc.property(arrayInput, fc.nat(), (a, k) => {
        const from = k % (a.shape[0]! + 1);
        const { tasks, plan } = planArray({ ...a, fromIndex: { axis: 0, index: from } }, GiB);
        const firstRow = Math.floor(from / a.chunks[0]!) * a.chunks[0]!;
        const rows = new Set<number>();
        for (const t of tasks) {
          assert.ok(t.start[0]! >= firstRow);
          for (let r = t.start[0]!; r < t.start[0]! + t.count[0]!; r += a.chunks[0]!) rows.add(r / a.chunks[0]!);
        }
        const expected = Math.ceil((a.shape[0]! - firstRow) / a.chunks[0]!);
        assert.equal(rows.size, a.shape[0]! > firstRow ? expected : 0);
        assert.equal(plan.objects, expected * a.shape.slice(1).reduce((p, n, i) => p * Math.ceil(n / a.chunks[i + 1]!), 1));
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe("planner cases", () => {
  const days = new Array(59).fill(24);
  const sample: ArrayInput = { path: "/T2M", shape: [1416, 361, 576], chunks: [1080, 90, 90], itemSize: 4, source: [days, [361], [576]] };

  test("the original sample at the default 1 GiB: each daily chunk decoded once, in 2 tasks", () => {
    const { plan } = planArray(sample, GiB);
    assert.deepEqual(plan.block, [1080, 361, 576]);
    assert.equal(plan.tasks, 2);
    assert.equal(plan.readAmplification, 1);
    assert.equal(plan.objects, 2 * 5 * 7);
    assert.ok(plan.peakTaskBytes <= GiB);
  });

  test("a smaller budget trades memory for decoding some chunks more than once, and says how much", () => {
    const { plan } = planArray(sample, 512 * MiB);
    assert.deepEqual(plan.block, [1080, 180, 576]);
    assert.equal(plan.readAmplification, 3);
    assert.equal(plan.tasks, 6);
  });

  test("a target chunk larger than the budget is refused before anything is written, with the numbers", () => {
    assert.throws(() => planArray(sample, 64 * MiB), (e) =>
      isConvertError(e, "Usage") && e.message ===
        "/T2M: one target chunk (1080, 90, 90) needs 100.1 MiB per task (chunk 33.4 MiB, source chunk up to 19.0 MiB), more than --max-mem 64.0 MiB; use smaller --chunks or a larger --max-mem");
  });

  test("rechunking to smaller chunks inside each source chunk groups them: one decode per source chunk", () => {
    const { plan } = planArray({ ...sample, chunks: [6, 361, 576] }, GiB);
    assert.deepEqual([plan.block, plan.tasks, plan.readAmplification], [[24, 361, 576], 59, 1]);
  });

  test("contiguous sources never amplify; small arrays become one task", () => {
    const { plan } = planArray({ path: "/lat", shape: [361], chunks: [90], itemSize: 8, source: [null] }, GiB);
    assert.deepEqual([plan.tasks, plan.objects, plan.readAmplification], [1, 5, 1]);
  });

  test("job estimates add up", () => {
    const p = planJob([sample, { path: "/lat", shape: [361], chunks: [90], itemSize: 8, source: [null] }], { maxMem: GiB, workers: 2 });
    assert.equal(p.estimates.tasks, 3);
    assert.deepEqual(p.tasks.map((t) => t.id), [0, 1, 2]);
    assert.equal(p.estimates.objects, 75);
    assert.equal(p.estimates.bytesWritten, 1416 * 361 * 576 * 4 + 361 * 8);
  });

  test("sizes parse like dask's", () => {
    assert.equal(parseBytes("1GiB"), GiB);
    assert.equal(parseBytes("512MB"), 512e6);
    assert.equal(parseBytes("1.5 GiB"), 1.5 * GiB);
    assert.equal(parseBytes("1e9"), 1e9);
    assert.throws(() => parseBytes("lots"), /--max-mem: expected a size like 1GiB or 512MB, got "lots"/);
  });
});
