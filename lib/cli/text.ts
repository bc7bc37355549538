/** How a conversion's plan and result read as text: the CLI prints these, the notebook shows them. */
import type { ConvertSummary } from "../convert.js";
import { formatBytes } from "../format.js";
import type { JobSpec, Plan } from "../plan/types.js";
import { namesShuffle } from "../exec/job.js";
import { formatCostEstimate } from "../exec/ecs/cost.js";
import { shortArn } from "../exec/ecs/protocol.js";
import type { ExecEvent } from "../exec/types.js";

export function summaryText(s: ConvertSummary): string {
  if (s.mode === "complete") return `${s.store} is already complete; nothing to do`;
  const chunks = s.arrays.reduce((a, x) => a + x.chunksWritten, 0);
  const empty = s.arrays.reduce((a, x) => a + x.chunksEmpty, 0);
  const verb = { create: "wrote", resume: "resumed and finished", append: "appended to", complete: "" }[s.mode];
  const lines = [
    `${verb} ${s.store} (Zarr v${s.zarrFormat}, ${s.shuffle ? "shuffle + " : ""}${s.codec}): ${s.arrays.length} arrays, ${chunks} chunks` +
      `${empty ? ` (+${empty} all-fill chunks not stored)` : ""}, ${formatBytes(s.bytesWritten)} in ${s.seconds.toFixed(2)} s` +
      ` (${s.tasks} tasks${s.tasksSkipped ? `, ${s.tasksSkipped} already done` : ""}, ${s.executor} x ${s.workers}, read amplification ${s.readAmplification.toFixed(2)})`,
  ];
  const io = s.storage;
  if (io.requests > 0) {
    lines.push(`object storage: ${io.requests} requests (${io.retries} retried), ${formatBytes(io.bytesIn)} read, ${formatBytes(io.bytesOut)} written`);
  }
  for (const k of s.skipped) lines.push(`skipped ${k.path}: unsupported ${k.reason}`);
  return lines.join("\n");
}

const shape = (xs: readonly number[]) => `(${xs.join(", ")})`;

export function planText(job: JobSpec, plan: Plan): string {
  const e = plan.estimates;
  const rows = plan.arrays.map((a) => [a.path, shape(a.shape), shape(a.chunks), shape(a.block), String(a.tasks), String(a.objects),
    a.readAmplification.toFixed(2), formatBytes(a.peakTaskBytes)]);
  const head = ["array", "shape", "chunks", "task block", "tasks", "objects", "read amp.", "peak/task"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  const what = job.append ? `append to ${job.store} from ${job.concatDim} = ${job.append.oldLength}` : `${job.store}`;
  return [
    `plan for ${what} (Zarr v${job.zarrFormat}, ${namesShuffle(job) ? "shuffle + " : ""}${job.codec}), ${job.inputs.length} input file(s)${job.concatDim ? ` along ${job.concatDim}` : ""}`,
    "", fmt(head), ...rows.map(fmt), "",
    `${e.tasks} tasks writing ${e.objects} objects; decode ${formatBytes(e.bytesRead)} (read amplification ${e.readAmplification.toFixed(2)}), ` +
      `write ${formatBytes(e.bytesWritten)} before compression; peak ${formatBytes(e.peakTaskBytes)} per task ` +
      `(budget ${formatBytes(e.maxMem)} per worker)`,
  ].join("\n");
}

/** One line per executor event (the ECS executor's estimate, workers started and stopped). */
export function execEventText(e: ExecEvent): string {
  switch (e.type) {
    case "estimate":
      return formatCostEstimate(e.estimate);
    case "workers-started":
      return `started ${e.workers.length} ECS worker${e.workers.length === 1 ? "" : "s"} (${e.running} running)`;
    case "worker-stopped": {
      const code = e.exitCode === null ? "" : `, exit code ${e.exitCode}`;
      const again = e.resubmitted.length ? `; resubmitting task${e.resubmitted.length === 1 ? "" : "s"} ${e.resubmitted.join(", ")}` : "";
      return `worker ${shortArn(e.worker)} stopped (${e.reason}${code})${again}`;
    }
    case "worker-overran":
      return `worker ${shortArn(e.worker)} ran ${Math.round(e.seconds)} s, past its limit: stopping it`;
  }
}
