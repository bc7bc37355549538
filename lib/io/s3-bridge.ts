/**
 * Synchronous S3 requests for code that cannot await: h5wasm calls back for bytes synchronously, and
 * our NetCDF-3 and chunk-index readers share that byte interface. A worker thread does the request
 * with the same S3Store as everything else; the caller blocks in Atomics.wait until it answers
 * (FIELD-NOTES §1.6). One bridge per thread, created on first use; it never keeps the process alive.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { ConvertError, type ErrorTag } from "../errors.js";
import { inputS3Settings, type S3Settings } from "../store/s3-config.js";
import { beginRequest, endRequest, storageMetrics } from "../store/metrics.js";
import type { WireError } from "../exec/types.js";

export type BridgeRequest =
  | { op: "head"; url: string }
  | { op: "range"; url: string; offset: number; length: number }
  | { op: "download"; url: string; to: string };

export type BridgeReply =
  | { ok: true; size?: number; bytes?: Uint8Array; missing?: boolean; retries: number }
  | { ok: false; error: WireError };

/** Beyond the SDK's own retries and timeouts; only a hung worker gets here. */
const TIMEOUT_MS = 10 * 60_000;

class S3Bridge {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(settings: S3Settings) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL("./s3-bridge-worker.js", import.meta.url), {
      workerData: { settings, port: port2, signal: this.flag.buffer }, transferList: [port2],
      // The SDK's Node-version notice is the caller's to see once, not once more per reader thread.
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    this.worker.unref();
  }

  close(): void {
    void this.worker.terminate();
    this.port.close();
  }

  call(req: BridgeRequest): Extract<BridgeReply, { ok: true }> {
    const share = beginRequest();
    const t0 = performance.now();
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    if (Atomics.wait(this.flag, 0, 0, TIMEOUT_MS) === "timed-out") {
      throw new ConvertError("Remote", `no answer from S3 after ${TIMEOUT_MS / 1000} s`, req.url);
    }
    const msg = receiveMessageOnPort(this.port)?.message as BridgeReply | undefined;
    const bytes = msg?.ok ? msg.bytes?.byteLength ?? (req.op === "download" ? msg.size ?? 0 : 0) : 0;
    endRequest(share, bytes);
    if (!msg) throw new ConvertError("Remote", "S3 reader thread gave no answer", req.url);
    const op = req.op === "range" ? "readRange" : req.op;
    if (!msg.ok) {
      storageMetrics.record(op, { ms: performance.now() - t0, error: true });
      throw new ConvertError((msg.error.tag ?? "Remote") as ErrorTag, msg.error.message, msg.error.path ?? req.url);
    }
    storageMetrics.record(op, { ms: performance.now() - t0, bytes, attempts: 1 + msg.retries });
    return msg;
  }
}

let bridge: { settings: string; bridge: S3Bridge } | undefined;

export function s3Bridge(): S3Bridge {
  const settings = inputS3Settings(); // the bridge reads inputs only
  const id = JSON.stringify(settings);
  if (bridge?.settings !== id) bridge = { settings: id, bridge: new S3Bridge(settings) };
  return bridge.bridge;
}

/** Stops this thread's bridge (its S3 client and connections); the next remote read starts a new one. */
export function resetS3Bridge(): void {
  bridge?.bridge.close();
  bridge = undefined;
}
