/** The statistics and the storage lower bound every benchmark figure is printed with. */
import { quantile } from "../store/metrics.js";
import type { LatencyProfile } from "../s3local/proxy.js";

export interface Stats {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

export function stats(ms: readonly number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, medianMs: quantile(s, 0.5), p90Ms: quantile(s, 0.9), minMs: s[0] ?? 0, maxMs: s.at(-1) ?? 0 };
}

/**
 * The least time the storage allows for a query that made `requests` requests moving `bytes`, with
 * `concurrency` requests in flight: requests x first-byte latency / concurrency + bytes / bandwidth
 * (bandwidth per connection x connections used). Zero for a profile without latency or bandwidth cap.
 */
export function lowerBoundMs(io: { requests: number; bytes: number }, profile: LatencyProfile, concurrency: number): number {
  const c = Math.max(1, concurrency);
  const latency = (io.requests * profile.firstByteMs) / c;
  const streams = Math.max(1, Math.min(c, io.requests));
  const transfer = profile.bytesPerSecond > 0 ? (io.bytes / (profile.bytesPerSecond * streams)) * 1000 : 0;
  return latency + transfer;
}
