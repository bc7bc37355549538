/** The statistics and the storage lower bound every benchmark figure is printed with. */
import { quantile } from "../store/metrics.js";
import type { LatencyProfile } from "../s3local/proxy.js";
import type { RequestSpan } from "../store/metrics.js";

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

/**
 * The least time a query's requests allow under a profile, from what it actually did: requests that
 * overlapped form groups, and each group needs at least its largest request's first byte + bytes /
 * bandwidth; groups that did not overlap ran one after another. (For n equal requests all in flight
 * together this is the formula above with concurrency n; for a chain of one-at-a-time reads, the sum.)
 */
export function lowerBoundFromSpans(spans: readonly RequestSpan[], profile: LatencyProfile): number {
  const one = (b: number) => profile.firstByteMs + (profile.bytesPerSecond > 0 ? (b / profile.bytesPerSecond) * 1000 : 0);
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let total = 0, groupEnd = -Infinity, groupMax = 0;
  for (const s of sorted) {
    if (s.start >= groupEnd) {
      total += groupMax;
      groupMax = 0;
    }
    groupMax = Math.max(groupMax, one(s.bytes));
    groupEnd = Math.max(groupEnd, s.end);
  }
  total += groupMax;
  return profile.firstByteMs === 0 && profile.bytesPerSecond === 0 ? 0 : total;
}
