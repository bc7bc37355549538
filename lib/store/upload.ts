import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { S3Store } from "./s3.js";
import type { S3Settings } from "./s3-config.js";

/** Puts local files under an s3:// prefix (16 at a time); returns their URLs in order. */
export async function uploadFiles(files: readonly string[], prefix: string, settings?: S3Settings): Promise<string[]> {
  const store = new S3Store(prefix, settings ? { settings } : {});
  const urls = files.map((f) => `${prefix.replace(/\/+$/, "")}/${basename(f)}`);
  for (let i = 0; i < files.length; i += 16) {
    await Promise.all(files.slice(i, i + 16).map((f) => store.set(`/${basename(f)}`, readFileSync(f))));
  }
  return urls;
}
