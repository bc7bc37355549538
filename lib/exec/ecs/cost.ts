/**
 * What a run on Fargate will cost, shown before it starts. Fargate bills vCPU and memory per second
 * with a one-minute minimum per task; S3 bills requests. The figures are estimates from the plan:
 * decoded bytes at a per-vCPU rate measured by `npm run bench:convert` (1.18 GB rechunked by 2 cores
 * in 14-20 s: ~40 MB/s per vCPU), plus each worker's start (about 60 s to pull the image and start).
 */
import type { PlanEstimates } from "../../plan/types.js";
import { ECS_DEFAULTS, resolveEcsSettings, type EcsSettings } from "./config.js";

/** US East (N. Virginia), Linux, on demand; AWS Fargate and S3 pricing pages as of 2026. */
export const US_EAST_1_PRICES = {
  source: "us-east-1 on-demand list prices (2026); other regions are typically 0-30% higher",
  vcpuHour: { X86_64: 0.04048, ARM64: 0.03238 },
  gbHour: { X86_64: 0.004445, ARM64: 0.00356 },
  putPer1000: 0.005,
  getPer1000: 0.0004,
} as const;

export const DECODE_BYTES_PER_VCPU_SECOND = 40e6;
export const WORKER_START_SECONDS = 60;
const BILLING_MINIMUM_SECONDS = 60;

export interface CostEstimate {
  workers: number;
  /** Seconds each worker is expected to run (start included). */
  secondsPerWorker: number;
  vcpuSeconds: number;
  gbSeconds: number;
  putRequests: number;
  getRequests: number;
  /** Dollars at on-demand prices; Spot costs up to 70% less for the compute part. */
  dollars: number;
  spot: boolean;
  prices: string;
}

export function estimateEcsCost(
  plan: Pick<PlanEstimates, "tasks" | "objects" | "bytesRead">,
  pool: Pick<EcsSettings, "vcpu" | "memoryGiB" | "architecture" | "spot" | "pricing">,
  workers: number,
): CostEstimate {
  const work = plan.bytesRead / (DECODE_BYTES_PER_VCPU_SECOND * pool.vcpu * Math.max(1, workers));
  const secondsPerWorker = Math.max(BILLING_MINIMUM_SECONDS, WORKER_START_SECONDS + work);
  const vcpuSeconds = workers * pool.vcpu * secondsPerWorker;
  const gbSeconds = workers * pool.memoryGiB * secondsPerWorker;
  // Writes: every chunk, plus a claim and a status per task and the manifest. Reads: source blocks of
  // 256 KiB (an upper bound: compressed sources are smaller), plus listings while polling.
  const putRequests = plan.objects + 2 * plan.tasks + 1;
  const getRequests = Math.ceil(plan.bytesRead / 262144) + Math.ceil(secondsPerWorker / 2);
  const p = US_EAST_1_PRICES;
  // The region's own Fargate prices when the pool names them (settings "pricing"), else us-east-1's.
  const vcpuHour = pool.pricing?.vcpuHour ?? p.vcpuHour[pool.architecture];
  const gbHour = pool.pricing?.gbHour ?? p.gbHour[pool.architecture];
  const dollars = (vcpuSeconds * vcpuHour + gbSeconds * gbHour) / 3600 + (putRequests * p.putPer1000 + getRequests * p.getPer1000) / 1000;
  const prices = pool.pricing ? `Fargate at $${vcpuHour}/vCPU-h and $${gbHour}/GB-h (${pool.pricing.source ?? "configured"}), S3 requests at us-east-1 list prices` : p.source;
  return { workers, secondsPerWorker, vcpuSeconds, gbSeconds, putRequests, getRequests, dollars, spot: pool.spot, prices };
}

export function formatCostEstimate(c: CostEstimate): string {
  const minutes = (c.secondsPerWorker / 60).toFixed(1);
  const spot = c.spot ? " (Fargate Spot: up to 70% less compute)" : "";
  return `estimated cost: ${c.workers} worker${c.workers === 1 ? "" : "s"} × ~${minutes} min = ${Math.round(c.vcpuSeconds)} vCPU-s, ${Math.round(c.gbSeconds)} GB-s, ` +
    `${c.putRequests} PUT + ~${c.getRequests} GET requests ≈ $${c.dollars.toFixed(c.dollars < 0.1 ? 4 : 2)}${spot} — ${c.prices}`;
}

/**
 * The estimate `plan --executor ecs` shows: with the configured pool's worker size and cap when there
 * is one, else the stack's defaults (and says so).
 */
export async function estimateForPlan(plan: Pick<PlanEstimates, "tasks" | "objects" | "bytesRead">, workers?: number): Promise<{ estimate: CostEstimate; pool: string }> {
  const pool = await resolveEcsSettings().then(
    (s) => ({ settings: s as Pick<EcsSettings, "vcpu" | "memoryGiB" | "architecture" | "spot" | "maxWorkers" | "pricing">, from: `pool from ${s.source}` }),
    () => ({ settings: ECS_DEFAULTS, from: "no pool configured: the stack's default worker size" }),
  );
  const n = Math.max(1, Math.min(workers ?? pool.settings.maxWorkers, pool.settings.maxWorkers, plan.tasks));
  const s = pool.settings;
  return { estimate: estimateEcsCost(plan, s, n), pool: `${pool.from} (${s.vcpu} vCPU, ${s.memoryGiB} GiB, ${s.architecture}${s.spot ? ", Spot" : ""})` };
}
