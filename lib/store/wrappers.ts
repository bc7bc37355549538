/**
 * Store wrappers that compose with any Store (and with withMetrics): a read cache, and a latency
 * profile applied in-process. The profile here delays this process's own calls; the loopback proxy
 * (s3local/proxy.ts) does the same on the wire, for workers and other processes too.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { LRUCache } from "lru-cache";
import type { LatencyProfile } from "../s3local/proxy.js";
import type { Store, StoreKey } from "./types.js";

/** Caches whole objects read with get() (metadata, small chunks) up to `maxBytes`; writes invalidate. */
export function withReadCache<S extends Store>(store: S, maxBytes = 64 << 20): S {
  const cache = new LRUCache<string, Uint8Array>({ maxSize: maxBytes, sizeCalculation: (b) => Math.max(1, b.byteLength) });
  const missing = new Set<string>();
  const forget = (key: string) => {
    cache.delete(key);
    missing.delete(key);
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      const f = v.bind(target) as (...a: unknown[]) => Promise<unknown>;
      switch (prop) {
        case "get":
          return async (key: StoreKey) => {
            const hit = cache.get(key);
            if (hit) return hit;
            if (missing.has(key)) return undefined;
            const b = (await f(key)) as Uint8Array | undefined;
            if (b) cache.set(key, b);
            else missing.add(key);
            return b;
          };
        case "readRange":
          return async (key: StoreKey, offset: number, length: number) => {
            const hit = cache.get(key);
            return hit ? hit.subarray(offset, offset + length) : f(key, offset, length);
          };
        case "set":
        case "setIfAbsent":
        case "delete":
          return (key: StoreKey, ...rest: unknown[]) => {
            forget(key);
            return f(key, ...rest);
          };
        case "deletePrefix":
          return (...a: unknown[]) => {
            cache.clear();
            missing.clear();
            return f(...a);
          };
        default:
          return f;
      }
    },
  });
}

/** Delays every call by the profile's first-byte latency and paces bytes read to its bandwidth. */
export function withLatency<S extends Store>(store: S, profile: LatencyProfile, random: () => number = Math.random): S {
  const wait = async (bytes: number) => {
    const ms = profile.firstByteMs + random() * profile.jitterMs + (profile.bytesPerSecond > 0 ? (bytes / profile.bytesPerSecond) * 1000 : 0);
    if (ms > 0) await sleep(ms);
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function" || prop === "list") return typeof v === "function" ? v.bind(target) : v;
      const f = v.bind(target) as (...a: unknown[]) => Promise<unknown>;
      return async (...a: unknown[]) => {
        const out = await f(...a);
        await wait(out instanceof Uint8Array ? out.byteLength : 0);
        return out;
      };
    },
  });
}
