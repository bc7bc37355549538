/**
 * The local S3-compatible endpoint: s3rver (file-backed, so the objects are files the user can see
 * in the data directory; it checks SigV4 like S3 does), bound to 127.0.0.1 only. Run as a child
 * process by startLocalS3() or `npm run s3:local`, so its CPU never competes with the client's event
 * loop inside one thread.
 *
 * A thin front adds what s3rver lacks and S3 has had since 2024: conditional PUT (`If-None-Match: *`
 * → 412 when the key exists), used for locks and completion records. Conditional PUTs to one key are
 * serialised, so exactly one of two racing writers wins, as on S3.
 *
 * And read-after-write consistency, which S3 has had since 2020: s3rver answers a PUT when its own
 * pipeline has finished, before the file is flushed, so a GET right after could see a shorter object
 * (found by the notebook: an upload, then an immediate ranged read, intermittently). Objects are now
 * written to a temporary file and renamed into place before the PUT is answered.
 *
 *   node dist/lib/s3local/server.js --dir DATA [--port 0] [--bucket NAME ...] [--state-file FILE]
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { dirname, resolve } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import S3rver from "s3rver";
import { writeState } from "../local-state.js";

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

interface S3rverInternals {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  store: FilesystemStore;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    port: { type: "string", default: "0" },
    bucket: { type: "string", multiple: true, default: [] },
    "state-file": { type: "string" },
  },
});
if (!values.dir) {
  process.stderr.write("s3-local: --dir DATA is required\n");
  process.exit(2);
}
const dataDir = resolve(values.dir);
mkdirSync(dataDir, { recursive: true });

const server = new S3rver({
  address: "127.0.0.1", port: Number(values.port), directory: dataDir, silent: true,
  configureBuckets: values.bucket.map((name) => ({ name })),
}) as unknown as S3rverInternals;

// Durable, atomic object writes (multipart completion goes through putObject too).
const store = server.store;
store.putObject = async function putObject(object: S3rverObject) {
  const path = store.getResourcePath(object.bucket, object.key, "object");
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.partial`;
  const md5 = createHash("md5");
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
    await pipeline(source as NodeJS.ReadableStream, count, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const hex = md5.digest("hex");
  await store.putMetadata(object.bucket, object.key, object.metadata, hex);
  return { size, md5: hex };
};

const koa = server.callback.bind(server);
const queues = new Map<string, Promise<void>>();
server.callback = () => {
  const handle = koa();
  return (req, res) => {
    if (req.method !== "PUT" || req.headers["if-none-match"] !== "*") return handle(req, res);
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).slice(1);
    const slash = path.indexOf("/");
    const bucket = path.slice(0, slash), key = path.slice(slash + 1);
    const id = `${bucket}/${key}`;
    const prev = queues.get(id) ?? Promise.resolve();
    const mine = prev.then(async () => {
      if (await server.store.existsObject(bucket, key)) {
        req.resume();
        res.writeHead(412, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>`);
        return;
      }
      await new Promise<void>((done) => {
        res.on("close", () => done());
        handle(req, res);
      });
    });
    queues.set(id, mine);
    void mine.finally(() => {
      if (queues.get(id) === mine) queues.delete(id);
    });
  };
};

const address = await server.run();
const endpoint = `http://127.0.0.1:${address.port}`;
const stateFile = values["state-file"];
const forgetState = stateFile ? writeState(stateFile, { endpoint, dataDir, pid: process.pid }) : undefined;
// The parent reads this one line to learn the port.
process.stdout.write(JSON.stringify({ endpoint, dataDir, pid: process.pid }) + "\n");

const stop = async () => {
  forgetState?.();
  await server.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// Started by a parent over a pipe: when the parent goes, so does the endpoint.
process.on("disconnect", () => void stop());
