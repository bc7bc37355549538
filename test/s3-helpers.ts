import { startLocalS3, type LocalS3 } from "../lib/s3local/start.js";
import { S3Store } from "../lib/store/s3.js";
import { uploadFiles } from "../lib/store/upload.js";
import { useS3Settings } from "../lib/store/s3-config.js";
import type { Store, StoreKey } from "../lib/store/types.js";
import { tempDir } from "./helpers.js";
export { differences } from "./store-compare.js";

export const BUCKET = "c2z-test";

export interface TestS3 {
  s3: LocalS3;
  /** Environment for CLI subprocesses. */
  env: Record<string, string>;
  store(url: string): S3Store;
  /** Uploads local files below s3://BUCKET/<prefix>/; returns their URLs in order. */
  upload(files: readonly string[], prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** A local endpoint for one test file, in a temporary folder; this process's S3 settings point at it. */
export async function startTestS3(): Promise<TestS3> {
  const tmp = tempDir("s3");
  const s3 = await startLocalS3({ dataDir: tmp.dir, buckets: [BUCKET] });
  useS3Settings(s3.settings);
  return {
    s3,
    env: { ...s3.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    store: (url) => new S3Store(url, { settings: s3.settings }),
    upload: (files, prefix) => uploadFiles(files, `s3://${BUCKET}/${prefix}`, s3.settings),
    async stop() {
      useS3Settings(undefined);
      await s3.stop();
      tmp.cleanup();
    },
  };
}

/** Every key → bytes of a store, for byte-for-byte comparisons across backends. */
export async function contents(store: Store): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const keys: StoreKey[] = [];
  for await (const k of store.list("/")) keys.push(k);
  for (const k of keys.sort()) out.set(k, Buffer.from((await store.get(k))!));
  return out;
}

