/**
 * Turns what the user typed into the list of input files: local paths as they are (the shell expands
 * local globs), s3:// URLs as keys, and s3:// globs (`s3://bucket/prefix/*.nc`, `**` too) by listing
 * the longest literal prefix and matching keys with picomatch (with the inputs' S3 settings: anonymous
 * or Requester Pays when so asked).
 */
import picomatch from "picomatch";
import { ConvertError } from "../errors.js";
import { S3Store } from "../store/s3.js";
import { isS3Url, parseS3Url } from "../store/s3-url.js";
import { inputS3Settings } from "../store/s3-config.js";
import type { StoreKey } from "../store/types.js";

const GLOB = /[*?[\]{}]/;

export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (!isS3Url(input) || !GLOB.test(input)) {
      out.push(input);
      continue;
    }
    const bucket = parseS3Url(input.replace(/[*?[\]{}].*$/, "")).bucket;
    const pattern = input.slice(`s3://${bucket}/`.length);
    const literal = pattern.slice(0, pattern.search(GLOB));
    const dir = literal.slice(0, literal.lastIndexOf("/") + 1).replace(/\/$/, "");
    const match = picomatch(pattern, { dot: false });
    const store = new S3Store(`s3://${bucket}`, { settings: inputS3Settings() });
    const found: string[] = [];
    for await (const key of store.list(`/${dir}` as StoreKey)) {
      if (match(key.slice(1))) found.push(`s3://${bucket}${key}`);
    }
    if (found.length === 0) throw new ConvertError("NotFound", "no objects match", input);
    out.push(...found.sort());
  }
  return out;
}
