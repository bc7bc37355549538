/**
 * A Store on S3 (or any S3-compatible endpoint) through @aws-sdk/client-s3 v3. The SDK's standard
 * retry mode (backoff with jitter) covers throttling (503 SlowDown), 5xx and connection errors before
 * a response; p-retry covers a body cut off mid-stream, which the SDK does not retry. Every HTTP
 * request is counted in `metrics`. Buffers only, never streams, as bodies: with a stream the SDK
 * switches to aws-chunked framing that some emulators store verbatim.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import pLimit, { type LimitFunction } from "p-limit";
import pRetry, { AbortError } from "p-retry";
import { ConvertError, oneLine } from "../errors.js";
import { beginRequest, endRequest, RequestMetrics, storageMetrics } from "./metrics.js";
import { LOCAL_CREDENTIALS, s3Settings, type S3Settings } from "./s3-config.js";
import { objectKey, parseS3Url, type S3Location } from "./s3-url.js";
import type { Store, StoreKey } from "./types.js";

/** Objects above this go up in parts (lib-storage), 8 MiB each, 4 at a time. */
export const MULTIPART_THRESHOLD = 16 << 20;
const PART_SIZE = 8 << 20;
const DELETE_BATCH = 1000; // S3's DeleteObjects maximum

type Sdk = typeof import("@aws-sdk/client-s3");
let sdkPromise: Promise<{ s3: Sdk; Upload: typeof import("@aws-sdk/lib-storage").Upload; NodeHttpHandler: typeof import("@smithy/node-http-handler").NodeHttpHandler }> | undefined;

/** The SDK loads on the first S3 request (~0.2 s), so local-only runs never pay for it. */
function loadSdk() {
  sdkPromise ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage"), import("@smithy/node-http-handler")])
    .then(([s3, storage, http]) => ({ s3, Upload: storage.Upload, NodeHttpHandler: http.NodeHttpHandler }));
  return sdkPromise;
}

const clients = new Map<string, S3Client>();

/**
 * Buckets' regions as S3 reported them (this thread), for AWS's own endpoints: a request in the wrong
 * region is answered 301 PermanentRedirect (or 400) with an `x-amz-bucket-region` header; the request
 * goes again to that region, and so do all later ones to the bucket. The SDK's `followRegionRedirects`
 * does the same per request, without remembering (two round trips for every request) and by swapping
 * the region of the shared client for the retry (aws-sdk-js-v3 #5554), so it is not used.
 */
const bucketRegions = new Map<string, string>();

/** The region an S3 error says the bucket is in, when that differs from the one asked. */
export function redirectRegion(e: unknown, asked: string | undefined): string | undefined {
  const err = e as { $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string | undefined> }; name?: string };
  const code = err?.$metadata?.httpStatusCode;
  const region = err?.$response?.headers?.["x-amz-bucket-region"];
  if (!region || region === asked || !/^[a-z0-9-]+$/.test(region)) return undefined;
  const redirect = code === 301 || code === 307 || code === 400 || ["PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"].includes(err?.name ?? "");
  return redirect ? region : undefined;
}

/** Forgets the regions learnt (tests, and a cold start). */
export function resetBucketRegions(): void {
  bucketRegions.clear();
}

/** One client per settings per thread: it holds the connection pool. */
export async function s3Client(settings: S3Settings): Promise<S3Client> {
  const { s3: { S3Client }, NodeHttpHandler } = await loadSdk();
  const id = JSON.stringify(settings);
  let c = clients.get(id);
  if (!c) {
    const agent = { keepAlive: true, maxSockets: Math.max(settings.concurrency, 8) };
    // Anonymous reads from AWS need no configured region: us-east-1 to start, then the bucket's own (inRegion).
    const region = settings.region ?? (settings.unsigned && !settings.endpoint ? "us-east-1" : undefined);
    c = new S3Client({
      ...(settings.endpoint && { endpoint: settings.endpoint }),
      ...(region && { region }),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.localCredentials && !settings.unsigned && { credentials: LOCAL_CREDENTIALS }),
      // Anonymous: a signer that leaves the request as it is (the SDK's long-standing recipe, aws-sdk-js-v3
      // #2321), and fixed empty credentials so the SDK's identity step never searches the credential chain.
      ...(settings.unsigned && { credentials: { accessKeyId: "", secretAccessKey: "" }, signer: { sign: async (request: unknown) => request } as never }),
      maxAttempts: settings.maxAttempts,
      retryMode: "standard",
      // Emulators mishandle the SDK's default flexible checksums (FIELD-NOTES §7.1); AWS keeps them.
      ...(settings.endpoint && { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" }),
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent), connectionTimeout: 10_000, requestTimeout: 120_000,
      }),
    });
    clients.set(id, c);
  }
  return c;
}

/** Closes every client of this thread (their connections with them): the next request starts cold. */
export function resetS3Clients(): void {
  for (const c of clients.values()) c.destroy();
  clients.clear();
  bucketRegions.clear();
}

interface ServiceError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
}
/** The HTTP status of an SDK error, also when wrapped in a ConvertError by send(). */
const status = (e: unknown): number | undefined =>
  (e as ServiceError)?.$metadata?.httpStatusCode ?? (e instanceof ConvertError ? status(e.cause) : undefined);
const isMissing = (e: unknown) => status(e) === 404 || ["NoSuchKey", "NotFound"].includes((e as ServiceError)?.name ?? "");
const BODY_ERRORS = /ECONNRESET|EPIPE|socket hang up|aborted|premature close|terminated|ETIMEDOUT/i;

export class S3Store implements Store {
  readonly url: string;
  readonly loc: S3Location;
  readonly metrics: RequestMetrics;
  readonly settings: S3Settings;
  private readonly limit: LimitFunction;

  constructor(url: string, opts: { settings?: S3Settings; metrics?: RequestMetrics } = {}) {
    this.url = url;
    this.loc = parseS3Url(url);
    this.settings = opts.settings ?? s3Settings();
    this.limit = pLimit(this.settings.concurrency);
    this.metrics = opts.metrics ?? new RequestMetrics();
  }

  key(key: StoreKey): string {
    return objectKey(this.loc.prefix, key, this.url);
  }

  /** Runs one request under the concurrency limit, counted, with S3 errors turned into one-line ConvertErrors. */
  private async send<T>(op: string, key: string, run: (client: S3Client, sdk: Awaited<ReturnType<typeof loadSdk>>) => Promise<T>, bytes: (t: T) => number): Promise<T> {
    const sdk = await loadSdk();
    return this.limit(async () => {
      const share = beginRequest();
      let n = 0;
      const t0 = performance.now();
      try {
        const out = await this.inRegion((client) => run(client, sdk));
        n = bytes(out);
        const attempts = (out as { $metadata?: { attempts?: number } })?.$metadata?.attempts;
        const r = { ms: performance.now() - t0, bytes: n, ...(attempts && { attempts }) };
        this.metrics.record(op, r);
        storageMetrics.record(op, r);
        return out;
      } catch (e) {
        const attempts = (e as ServiceError)?.$metadata?.attempts;
        // Missing keys and ranges past the end are answers, not errors.
        const r = { ms: performance.now() - t0, error: !isMissing(e) && status(e) !== 416 && !isAborted(e), ...(attempts && { attempts }) };
        this.metrics.record(op, r);
        storageMetrics.record(op, r);
        throw e;
      } finally {
        endRequest(share, n);
      }
    }).catch((e: unknown) => {
      throw isMissing(e) || e instanceof ConvertError || e instanceof AbortError ? e : this.describe(op, key, e);
    });
  }

  /** The settings with the bucket's region once S3 has said it (AWS endpoints only). */
  private regional(): S3Settings {
    const region = this.settings.endpoint ? undefined : bucketRegions.get(this.loc.bucket);
    return region && region !== this.settings.region ? { ...this.settings, region } : this.settings;
  }

  /** Runs a request; on AWS, once more in the bucket's region when S3 answers that it lives elsewhere. */
  private async inRegion<T>(run: (client: S3Client) => Promise<T>): Promise<T> {
    const settings = this.regional();
    try {
      return await run(await s3Client(settings));
    } catch (e) {
      const region = settings.endpoint ? undefined : redirectRegion(e, settings.region ?? (settings.unsigned ? "us-east-1" : undefined));
      if (!region) throw e;
      bucketRegions.set(this.loc.bucket, region);
      return run(await s3Client({ ...this.settings, region }));
    }
  }

  /** RequestPayer on reads, when the bucket's owner charges the requester and the user agreed to pay. */
  private get payer(): { RequestPayer?: "requester" } {
    return this.settings.requestPayer ? { RequestPayer: this.settings.requestPayer } : {};
  }

  private describe(op: string, key: string, e: unknown): ConvertError {
    const err = e as ServiceError;
    const where = `s3://${this.loc.bucket}/${key}`;
    const code = status(e);
    const name = err?.name ?? "Error";
    if (name === "NoSuchBucket") return new ConvertError("NotFound", "no such bucket", `s3://${this.loc.bucket}`);
    if (code === 403 || name === "AccessDenied") {
      const read = ["get", "readRange", "head", "list"].includes(op);
      if (this.settings.unsigned) {
        return new ConvertError("Unreadable", `access denied to an anonymous read (${op}): not public; read it with credentials (without --no-sign-request / AWS_NO_SIGN_REQUEST), adding --request-payer requester if the bucket is Requester Pays`, where);
      }
      if (read && this.settings.forInputs && !this.settings.requestPayer) {
        return new ConvertError("Unreadable", `access denied (${op}): no permission, or a Requester Pays bucket (then add --request-payer requester, and pay for the reads)`, where);
      }
      return new ConvertError("Unreadable", `access denied (${op})`, where);
    }
    if (name === "CredentialsProviderError") return new ConvertError("Usage", `no usable AWS credentials: ${oneLine(e)}`, where);
    const attempts = err?.$metadata?.attempts;
    return new ConvertError("Remote", `S3 ${op} failed${code ? ` with HTTP ${code}` : ""}: ${name === "Error" ? oneLine(e) : name}${attempts ? ` after ${attempts} attempts` : ""}`, where, { cause: e });
  }

  /**
   * A GET whose body is read in full, as the pieces it arrived in (no concatenation: a large range
   * would be copied once more); a body cut off mid-stream is requested again (bounded, with jitter).
   */
  private async fetch(op: "get" | "readRange", key: string, range?: [number, number], signal?: AbortSignal): Promise<Pieces | undefined> {
    return pRetry(async () => {
      try {
        return await this.send(op, key, async (client, { s3 }) => {
          const cmd = new s3.GetObjectCommand({ Bucket: this.loc.bucket, Key: key, ...this.payer, ...(range && { Range: `bytes=${range[0]}-${range[1]}` }) });
          const res = await client.send(cmd, signal ? { abortSignal: signal } : {});
          const pieces: Uint8Array[] = [];
          let byteLength = 0;
          for await (const c of res.Body as AsyncIterable<Uint8Array>) {
            pieces.push(c);
            byteLength += c.byteLength;
          }
          // A connection closed mid-body can end the stream without an error: never pass on a short body.
          if (res.ContentLength !== undefined && byteLength !== res.ContentLength) {
            throw new Error(`premature close: ${byteLength} of ${res.ContentLength} bytes`);
          }
          return { pieces, byteLength, $metadata: res.$metadata, contentRange: res.ContentRange };
        }, (b) => b.byteLength);
      } catch (e) {
        if (isMissing(e)) return undefined;
        if (status(e) === 416) return { pieces: [], byteLength: 0 }; // range starts past the end
        if (signal?.aborted) throw new AbortError(e as Error); // not wanted any more: no retry
        const cause = e instanceof ConvertError ? e.cause : e;
        if (!BODY_ERRORS.test(String((cause as Error)?.message ?? cause)) || status(e)) throw new AbortError(e as Error);
        throw e;
      }
    }, { retries: this.settings.maxAttempts - 1, minTimeout: 100, maxTimeout: 5_000, randomize: true }).catch((e: unknown) => {
      throw e instanceof AbortError ? (e as unknown as { originalError: Error }).originalError : e;
    });
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    const body = await this.fetch("get", this.key(key));
    return body && joinPieces([body]);
  }

  /**
   * A large object as parallel byte ranges (S3's guidance: 8-16 MB ranges, one connection each, as
   * each connection carries ~85-90 MB/s), when the caller knows roughly how large it can be — e.g. a
   * Zarr chunk is at most its decoded size plus a little. All ranges up to `maxBytes` go at once; ranges
   * past the end come back empty; should the object be larger, the rest follows range by range.
   */
  async getInRanges(key: StoreKey, maxBytes: number, part = PART_SIZE): Promise<Uint8Array | undefined> {
    const got: Pieces[] = [];
    const n = await this.readInRanges(key, maxBytes, async (p) => void got.push(p), part);
    return n === undefined ? undefined : joinPieces(got);
  }

  /**
   * The same ranges, handed to `take` in order as each arrives (and, within one, in the pieces it came
   * in), while later ranges are still on the way — for a reader that decodes as it goes, without the
   * whole object ever in one buffer. Resolves to the bytes read, or undefined when the key is missing.
   */
  async readPiecesInRanges(key: StoreKey, maxBytes: number, take: (piece: Uint8Array) => Promise<unknown>, part = PART_SIZE): Promise<number | undefined> {
    return this.readInRanges(key, maxBytes, async (r) => {
      for (const p of r.pieces) if ((await take(p)) === false) return false;
      return true;
    }, part);
  }

  private async readInRanges(key: StoreKey, maxBytes: number, take: (range: Pieces) => Promise<boolean | void>, part: number): Promise<number | undefined> {
    const n = Math.max(1, Math.ceil(maxBytes / part));
    // Ranges still on the way when the reader is done (it stopped early, or the object ended) are
    // cancelled: left running they would compete with the caller's next requests.
    const cancel = new AbortController();
    const ranges = Array.from({ length: n }, (_, i) => this.readRangePieces(key, i * part, part, cancel.signal));
    ranges.forEach((r) => r.catch(() => {})); // each is awaited below, or cancelled
    let total = 0;
    try {
      for (let i = 0; ; i++) {
        const r = await (ranges[i] ?? this.readRangePieces(key, i * part, part));
        if (!r) {
          if (i === 0) return undefined;
          break;
        }
        total += r.byteLength;
        if (r.byteLength > 0 && (await take(r)) === false) break;
        // A short range is the object's end; past maxBytes (every range full), the rest one by one.
        if (r.byteLength < part) break;
      }
    } finally {
      cancel.abort();
    }
    return total;
  }

  async readRange(key: StoreKey, offset: number, length: number): Promise<Uint8Array | undefined> {
    const r = await this.readRangePieces(key, offset, length);
    return r && joinPieces([r]);
  }

  private async readRangePieces(key: StoreKey, offset: number, length: number, signal?: AbortSignal): Promise<Pieces | undefined> {
    if (length <= 0) return (await this.head(key)) ? { pieces: [], byteLength: 0 } : undefined;
    const body = await this.fetch("readRange", this.key(key), [offset, offset + length - 1], signal);
    if (!body) return undefined;
    // Emulators have answered a one-byte range with the whole object (s3rver): trust Content-Range, then length.
    const cr = /^bytes (\d+)-/.exec(body.contentRange ?? "");
    const start = cr ? offset - Number(cr[1]) : body.byteLength > length ? offset : 0;
    return slicePieces(body, start, Math.min(length, body.byteLength - start));
  }

  async head(key: StoreKey): Promise<{ size: number } | undefined> {
    const k = this.key(key);
    try {
      const res = await this.send("head", k, (client, { s3 }) => client.send(new s3.HeadObjectCommand({ Bucket: this.loc.bucket, Key: k, ...this.payer })), () => 0);
      return { size: res.ContentLength ?? 0 };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async has(key: StoreKey): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  private putInput(key: string, value: Uint8Array): PutObjectCommandInput {
    const sse = this.settings.sse;
    return {
      Bucket: this.loc.bucket, Key: key, Body: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      ...(sse && { ServerSideEncryption: sse.mode, ...(sse.kmsKeyId && { SSEKMSKeyId: sse.kmsKeyId }) }),
    };
  }

  async set(key: StoreKey, value: Uint8Array): Promise<void> {
    const k = this.key(key);
    if (value.byteLength <= MULTIPART_THRESHOLD) {
      await this.send("put", k, (client, { s3 }) => client.send(new s3.PutObjectCommand(this.putInput(k, value))), () => value.byteLength);
      return;
    }
    // Parts are not counted one by one: lib-storage sends them; count the upload as one "multipart" request.
    await this.send("multipart", k, (client, { Upload }) => new Upload({ client, params: this.putInput(k, value), partSize: PART_SIZE, queueSize: 4 }).done(), () => value.byteLength);
  }

  async setIfAbsent(key: StoreKey, value: Uint8Array): Promise<boolean> {
    const k = this.key(key);
    try {
      await this.send("put", k, (client, { s3 }) => client.send(new s3.PutObjectCommand({ ...this.putInput(k, value), IfNoneMatch: "*" })), () => value.byteLength);
      return true;
    } catch (e) {
      const code = status(e);
      if (code === 412 || code === 409) return false; // 412: exists; 409: a concurrent conditional write won
      throw e;
    }
  }

  async delete(key: StoreKey): Promise<void> {
    const k = this.key(key);
    await this.send("delete", k, (client, { s3 }) => client.send(new s3.DeleteObjectCommand({ Bucket: this.loc.bucket, Key: k })), () => 0);
  }

  /**
   * Pages with StartAfter (the last key of the previous page) rather than ContinuationToken: AWS
   * supports both, and s3rver's tokens fail without OpenSSL's legacy provider.
   */
  async *list(prefix: StoreKey = "/"): AsyncIterable<StoreKey> {
    const base = this.key(prefix);
    const p = base === "" ? "" : base + "/";
    let after: string | undefined;
    for (;;) {
      const res = await this.send("list", p, (client, { s3 }) => client.send(new s3.ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: p, ...this.payer, ...(after && { StartAfter: after }) })), () => 0);
      const keys = (res.Contents ?? []).map((o) => o.Key!).filter((k) => k !== undefined);
      const strip = this.loc.prefix === "" ? 0 : this.loc.prefix.length + 1;
      for (const k of keys) yield ("/" + k.slice(strip)) as StoreKey;
      if (!res.IsTruncated || keys.length === 0) return;
      after = keys[keys.length - 1];
    }
  }

  /** Deletes by prefix in batches of 1000 (DeleteObjects), failing on any key S3 could not delete. */
  async deletePrefix(prefix: StoreKey = "/"): Promise<void> {
    let batch: string[] = [];
    const flush = async () => {
      const keys = batch;
      batch = [];
      if (keys.length === 0) return;
      const res = await this.send("deleteBatch", keys[0]!, (client, { s3 }) => client.send(new s3.DeleteObjectsCommand({
        Bucket: this.loc.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      })), () => 0);
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        throw new ConvertError("Remote", `could not delete ${failed.length} objects (first: ${failed[0]!.Key}: ${failed[0]!.Code})`, this.url);
      }
    };
    for await (const key of this.list(prefix)) {
      batch.push(this.key(key));
      if (batch.length === DELETE_BATCH) await flush();
    }
    await flush();
  }
}

/** A body as the pieces it arrived in. */
interface Pieces {
  pieces: Uint8Array[];
  byteLength: number;
  $metadata?: unknown;
  contentRange?: string | undefined;
}

/** One buffer: the single piece as it is, else a copy of all. */
function joinPieces(list: readonly Pieces[]): Uint8Array {
  const all = list.flatMap((p) => p.pieces);
  if (all.length === 1) return all[0]!;
  const out = new Uint8Array(all.reduce((a, b) => a + b.byteLength, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Bytes [start, start + length) of a body, as views of its pieces. */
function slicePieces(body: Pieces, start: number, length: number): Pieces {
  if (start === 0 && length === body.byteLength) return body;
  const pieces: Uint8Array[] = [];
  let pos = 0;
  for (const p of body.pieces) {
    const from = Math.max(start, pos), to = Math.min(start + length, pos + p.byteLength);
    if (to > from) pieces.push(p.subarray(from - pos, to - pos));
    pos += p.byteLength;
  }
  return { pieces, byteLength: Math.max(0, length) };
}

/** A request the caller cancelled (AbortSignal), whichever layer reports it. */
function isAborted(e: unknown): boolean {
  return (e as Error)?.name === "AbortError";
}
