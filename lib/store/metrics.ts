/** Per-request counters (count, bytes, latency, retries) that benchmarks and reports read. */
import type { Store, StoreKey } from "./types.js";

export interface OpStats {
  count: number;
  bytes: number;
  /** Milliseconds per request, in the order they finished. */
  latencies: number[];
  retries: number;
  errors: number;
}

export interface MetricsSummary {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  errors: number;
  byOp: Record<string, { count: number; bytes: number; retries: number; errors: number; p50Ms: number; p90Ms: number; maxMs: number }>;
}

const IN_OPS = new Set(["get", "readRange", "list", "head", "download"]);

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

export class RequestMetrics {
  readonly ops = new Map<string, OpStats>();

  record(op: string, r: { bytes?: number; ms: number; attempts?: number; error?: boolean }): void {
    let s = this.ops.get(op);
    if (!s) this.ops.set(op, (s = { count: 0, bytes: 0, latencies: [], retries: 0, errors: 0 }));
    s.count++;
    s.bytes += r.bytes ?? 0;
    s.latencies.push(r.ms);
    s.retries += Math.max(0, (r.attempts ?? 1) - 1);
    if (r.error) s.errors++;
  }

  reset(): void {
    this.ops.clear();
  }

  summary(): MetricsSummary {
    const out: MetricsSummary = { requests: 0, bytesIn: 0, bytesOut: 0, retries: 0, errors: 0, byOp: {} };
    for (const [op, s] of this.ops) {
      const sorted = [...s.latencies].sort((a, b) => a - b);
      out.byOp[op] = { count: s.count, bytes: s.bytes, retries: s.retries, errors: s.errors, p50Ms: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), maxMs: sorted.at(-1) ?? 0 };
      out.requests += s.count;
      out.retries += s.retries;
      out.errors += s.errors;
      if (IN_OPS.has(op)) out.bytesIn += s.bytes;
      else out.bytesOut += s.bytes;
    }
    return out;
  }
}

/** The counters that add up across threads and tasks. */
export interface StorageTotals {
  requests: number;
  retries: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
}

export const totalsOf = (m: MetricsSummary): StorageTotals =>
  ({ requests: m.requests, retries: m.retries, errors: m.errors, bytesIn: m.bytesIn, bytesOut: m.bytesOut });

export function addTotals(a: StorageTotals, b: StorageTotals, sign = 1): StorageTotals {
  return {
    requests: a.requests + sign * b.requests, retries: a.retries + sign * b.retries, errors: a.errors + sign * b.errors,
    bytesIn: a.bytesIn + sign * b.bytesIn, bytesOut: a.bytesOut + sign * b.bytesOut,
  };
}

/**
 * Every object-storage request this thread made (S3 stores and ranged reads of remote inputs), so a
 * run can report its requests and retries without threading a counter through every call.
 */
export const storageMetrics = new RequestMetrics();

let firstRequestMs: number | undefined;

/** Notes that a request is about to be made (the first one's time is the process's cold-start overhead). */
export function noteRequest(): void {
  firstRequestMs ??= performance.now();
}

/** Milliseconds from process start to the first storage request, if one was made. */
export const firstRequestAt = (): number | undefined => firstRequestMs;

/** One storage request's span (ms since process start) and payload, for lower bounds. */
export interface RequestSpan {
  start: number;
  end: number;
  bytes: number;
}

let spans: RequestSpan[] | undefined;

/** Starts (or stops, returning them) recording every request's span in this thread. */
export function recordSpans(on: boolean): RequestSpan[] {
  const out = spans ?? [];
  spans = on ? [] : undefined;
  return out;
}

/** A request starts; pass the result to endRequest. */
export function beginRequest(): number {
  noteRequest();
  return performance.now();
}

export function endRequest(start: number, bytes: number): void {
  spans?.push({ start, end: performance.now(), bytes });
}

/** Wraps any store so each of its operations is counted (S3Store also counts its own HTTP requests). */
export function withMetrics<S extends Store>(store: S, metrics: RequestMetrics): S {
  const timed = async <T>(op: string, f: () => Promise<T>, bytes: (t: T) => number): Promise<T> => {
    const share = beginRequest();
    const t0 = share;
    let n = 0;
    try {
      const v = await f();
      n = bytes(v);
      metrics.record(op, { ms: performance.now() - t0, bytes: n });
      return v;
    } catch (e) {
      metrics.record(op, { ms: performance.now() - t0, error: true });
      throw e;
    } finally {
      endRequest(share, n);
    }
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      const f = v.bind(target) as (...a: unknown[]) => unknown;
      switch (prop) {
        case "get":
        case "readRange":
          return (...a: unknown[]) => timed(prop, () => f(...a) as Promise<Uint8Array | undefined>, (b) => b?.byteLength ?? 0);
        case "readPieces":
          return (...a: unknown[]) => timed("get", () => f(...a) as Promise<number | undefined>, (n) => n ?? 0);
        case "set":
          return (key: StoreKey, value: Uint8Array) => timed("put", () => f(key, value) as Promise<void>, () => value.byteLength);
        case "setIfAbsent":
          return (key: StoreKey, value: Uint8Array) => timed("put", () => f(key, value) as Promise<boolean>, () => value.byteLength);
        case "delete":
        case "has":
        case "deletePrefix":
          return (...a: unknown[]) => timed(prop, () => f(...a) as Promise<unknown>, () => 0);
        default:
          return f;
      }
    },
  });
}
