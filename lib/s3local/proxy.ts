/**
 * A loopback HTTP proxy in front of any S3 endpoint that makes it behave like object storage far
 * away: first-byte latency with jitter, a per-connection bandwidth cap, and, for fault tests, 503
 * SlowDown / 500 answers, connection resets, bodies cut off mid-stream and slow responses at a set
 * rate (seeded, so a test run is repeatable). The kernels we run on have no netem (FIELD-NOTES
 * §7.4), hence a proxy. The Host header is forwarded unchanged, so SigV4 signatures still verify.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Transform, pipeline, type TransformCallback } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

export interface LatencyProfile {
  name: string;
  /** Added before the response head, plus U[0, jitterMs). */
  firstByteMs: number;
  jitterMs: number;
  /** Per-connection cap on response bodies; 0 = none. */
  bytesPerSecond: number;
  /** Where the figures come from. */
  source: string;
}

/**
 * S3 Standard as AWS describes it: first byte "roughly 100–200 milliseconds" for small objects (S3
 * User Guide, "Performance guidelines for Amazon S3"), and about 85–90 MB/s per request ("one
 * concurrent request for each 85–90 MB/s", AWS whitepaper "Best Practices Design Patterns:
 * Optimizing Amazon S3 Performance"). We take the low ends: 100 ms + U[0, 100) ms, 85 MB/s.
 */
export const PROFILES: Record<"local" | "s3", LatencyProfile> = {
  local: { name: "local", firstByteMs: 0, jitterMs: 0, bytesPerSecond: 0, source: "no added latency" },
  s3: {
    name: "s3-standard (simulated)", firstByteMs: 100, jitterMs: 100, bytesPerSecond: 85e6,
    source: "AWS S3 User Guide (first byte 100-200 ms) and S3 performance whitepaper (85-90 MB/s per request)",
  },
};

export type FaultKind = "503" | "500" | "reset" | "cut" | "slow";

export interface FaultOptions {
  /** Probability that a request gets a fault. */
  rate: number;
  kinds: FaultKind[];
  /** Delay for "slow" (default 2 s). */
  slowMs?: number;
  seed?: number;
  /** Let this many requests through untouched first (so a run gets going before faults start). */
  afterRequests?: number;
}

export interface Proxy {
  endpoint: string;
  /** Faults injected so far, by kind, and requests seen. */
  stats: { requests: number; faults: Record<FaultKind, number> };
  /** Change faults (or stop them with undefined) while running. */
  setFaults(f: FaultOptions | undefined): void;
  stop(): Promise<void>;
}

/** mulberry32: a tiny seeded generator, so fault schedules repeat run to run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Paces a stream to `bps` bytes per second. */
function throttle(bps: number): Transform {
  const t0 = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      sent += chunk.length;
      const wait = (sent / bps) * 1000 - (Date.now() - t0);
      if (wait > 0) setTimeout(() => done(null, chunk), wait);
      else done(null, chunk);
    },
  });
}

const s3Error = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};

export async function startProxy(opts: {
  upstream: string;
  profile?: LatencyProfile;
  faults?: FaultOptions;
  /** Sees every request's method, path and headers (tests check what was sent). */
  onRequest?: (req: IncomingMessage) => void;
}): Promise<Proxy> {
  const up = new URL(opts.upstream);
  const profile = opts.profile ?? PROFILES.local;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let faults = opts.faults;
  let random = rng(faults?.seed ?? 1);
  const stats: Proxy["stats"] = { requests: 0, faults: { "503": 0, "500": 0, reset: 0, cut: 0, slow: 0 } };

  let sinceFaults = 0;
  const pickFault = (): FaultKind | undefined => {
    if (!faults || faults.kinds.length === 0 || ++sinceFaults <= (faults.afterRequests ?? 0) || random() >= faults.rate) return undefined;
    return faults.kinds[Math.floor(random() * faults.kinds.length)]!;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    opts.onRequest?.(req);
    const t0 = Date.now();
    const delay = profile.firstByteMs + random() * profile.jitterMs;
    let fault = pickFault();
    if (fault === "cut" && req.method !== "GET") fault = "reset"; // only response bodies can be cut
    if (fault) stats.faults[fault]++;
    if (fault === "503" || fault === "500" || fault === "reset") {
      req.resume();
      req.on("end", () => {
        if (fault === "reset") req.socket.destroy();
        else if (fault === "503") s3Error(res, 503, "SlowDown", "Please reduce your request rate.");
        else s3Error(res, 500, "InternalError", "We encountered an internal error. Please try again.");
      });
      return;
    }
    const preq = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent }, async (pres) => {
      const wait = delay + (fault === "slow" ? faults?.slowMs ?? 2000 : 0) - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
      // The client may have gone meanwhile (an aborted request, a closed connection pool): then there
      // is no one to answer, and writing would throw out of this callback and end the proxy.
      if (res.headersSent || res.destroyed) {
        pres.destroy();
        return;
      }
      res.writeHead(pres.statusCode ?? 502, pres.headers);
      if (fault === "cut") {
        // Send about half the body, then drop the connection.
        const half = Math.floor(Number(pres.headers["content-length"] ?? 0) / 2);
        let sent = 0;
        pres.on("data", (c: Buffer) => {
          if (sent + c.length >= half) {
            res.write(c.subarray(0, Math.max(0, half - sent)));
            res.socket?.destroy();
            pres.destroy();
          } else res.write(c);
          sent += c.length;
        });
        return;
      }
      const streams = profile.bytesPerSecond > 0 ? [pres, throttle(profile.bytesPerSecond), res] : [pres, res];
      pipeline(streams as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], () => {});
    });
    preq.on("error", () => {
      if (!res.headersSent) s3Error(res, 502, "BadGateway", "upstream unreachable");
      else res.socket?.destroy();
    });
    pipeline(req, preq, () => {});
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setFaults(f) {
      faults = f;
      sinceFaults = 0;
      random = rng(f?.seed ?? 1);
    },
    stop: () => new Promise<void>((ok) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
