/**
 * The other half of S3Bridge: a worker thread that does the asynchronous S3 requests for a thread
 * blocked in Atomics.wait, answering on a MessagePort and then waking it through a shared flag.
 */
import { writeFile } from "node:fs/promises";
import { workerData, type MessagePort } from "node:worker_threads";
import { toWire } from "../exec/dispatch.js";
import { S3Store } from "../store/s3.js";
import type { S3Settings } from "../store/s3-config.js";
import { parseS3Url } from "../store/s3-url.js";
import type { StoreKey } from "../store/types.js";
import type { BridgeReply, BridgeRequest } from "./s3-bridge.js";

const { settings, port, signal } = workerData as { settings: S3Settings; port: MessagePort; signal: SharedArrayBuffer };
const flag = new Int32Array(signal);
const stores = new Map<string, S3Store>();

function locate(url: string): { store: S3Store; key: StoreKey } {
  const loc = parseS3Url(url);
  let store = stores.get(loc.bucket);
  if (!store) stores.set(loc.bucket, (store = new S3Store(`s3://${loc.bucket}`, { settings })));
  return { store, key: `/${loc.prefix}` as StoreKey };
}

async function answer(req: BridgeRequest): Promise<{ reply: BridgeReply; transfer: ArrayBuffer[] }> {
  const { store, key } = locate(req.url);
  const before = store.metrics.summary().retries;
  const retries = () => store.metrics.summary().retries - before;
  switch (req.op) {
    case "head": {
      const h = await store.head(key);
      return { reply: { ok: true, size: h?.size ?? -1, retries: retries() }, transfer: [] };
    }
    case "range": {
      const b = await store.readRange(key, req.offset, req.length);
      const copy = b ? b.slice() : new Uint8Array(0); // own buffer, so it can be transferred
      return { reply: { ok: true, bytes: copy, missing: !b, retries: retries() }, transfer: [copy.buffer as ArrayBuffer] };
    }
    case "download": {
      const b = await store.get(key);
      if (b) await writeFile(req.to, b);
      return { reply: { ok: true, size: b ? b.byteLength : -1, retries: retries() }, transfer: [] };
    }
  }
}

port.on("message", (req: BridgeRequest) => {
  void answer(req)
    .catch((e: unknown) => ({ reply: { ok: false as const, error: toWire(e) }, transfer: [] }))
    .then(({ reply, transfer }) => {
      port.postMessage(reply, transfer);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
});
