import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import pLimit from "p-limit";
import { ConvertError } from "../errors.js";
import type { Store, StoreKey } from "./types.js";

/** Read size of readPieces. */
const PIECE = 1 << 20;

/** An error that means "no such object". */
function missing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR";
}

/**
 * A store in a local directory. Writes go to a temporary name then rename, so a killed run never
 * leaves a half-written chunk or metadata document under its real name. Created directories are
 * remembered, so each chunk costs one mkdir at most once per directory. At most 64 file operations run
 * at once, so thousands of chunk writes in flight never exhaust file descriptors.
 */
export class FsStore implements Store {
  readonly url: string;
  private readonly root: string;
  private readonly madeDirs = new Set<string>();
  private readonly limit = pLimit(64);

  constructor(root: string) {
    this.root = resolve(root);
    this.url = root;
  }

  private file(key: StoreKey): string {
    const parts = key.split("/").filter((p) => p !== "");
    if (parts.some((p) => p === "." || p === "..")) {
      throw new ConvertError("Usage", `store key ${key} escapes the store`, this.url);
    }
    return join(this.root, ...parts);
  }

  get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.limit(() => this.read(key));
  }

  private async openIfExists(key: StoreKey) {
    try {
      return await open(this.file(key), "r");
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  }

  readPieces(key: StoreKey, take: (piece: Uint8Array) => Promise<unknown>): Promise<number | undefined> {
    return this.limit(async () => {
      const fh = await this.openIfExists(key);
      if (!fh) return undefined;
      // Two buffers for the whole object, reused piece after piece: no object-sized allocation, whose
      // page faults cost as much as reading a 28 MB chunk from the page cache (measured). While the
      // caller takes one piece, the next is being read into the other.
      const bufs = [new Uint8Array(PIECE), new Uint8Array(PIECE)];
      const readAt = (pos: number, k: number) => fh.read(bufs[k]!, 0, PIECE, pos);
      let pending = readAt(0, 0);
      try {
        for (let pos = 0, k = 0; ; k ^= 1) {
          const { bytesRead } = await pending;
          if (bytesRead === 0) return pos;
          pos += bytesRead;
          pending = readAt(pos, k ^ 1);
          if ((await take(bufs[k]!.subarray(0, bytesRead))) === false) return pos;
        }
      } finally {
        await pending.catch(() => {}); // the read ahead, before the file closes
        await fh.close();
      }
    });
  }

  private async read(key: StoreKey): Promise<Uint8Array | undefined> {
    try {
      const b = await readFile(this.file(key));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  }

  readRange(key: StoreKey, offset: number, length: number): Promise<Uint8Array | undefined> {
    return this.limit(() => this.readPart(key, offset, length));
  }

  private async readPart(key: StoreKey, offset: number, length: number): Promise<Uint8Array | undefined> {
    const fh = await this.openIfExists(key);
    if (!fh) return undefined;
    try {
      const out = new Uint8Array(length);
      const { bytesRead } = await fh.read(out, 0, length, offset);
      return out.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async head(key: StoreKey): Promise<{ size: number } | undefined> {
    try {
      const st = await stat(this.file(key));
      return st.isFile() ? { size: st.size } : undefined;
    } catch {
      return undefined;
    }
  }

  async has(key: StoreKey): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch {
      return false;
    }
  }

  set(key: StoreKey, value: Uint8Array): Promise<void> {
    return this.limit(() => this.write(key, value));
  }

  private async write(key: StoreKey, value: Uint8Array): Promise<void> {
    const path = this.file(key);
    const dir = dirname(path);
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const tmp = `${path}.${randomBytes(4).toString("hex")}.partial`;
    await writeFile(tmp, value);
    await rename(tmp, path);
  }

  async setIfAbsent(key: StoreKey, value: Uint8Array): Promise<boolean> {
    const path = this.file(key);
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(path, value, { flag: "wx" }); // O_EXCL: exactly one writer wins
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
  }

  /** Removes temporary files a killed run left behind (their names end in .partial). */
  async removePartials(): Promise<number> {
    let n = 0;
    for await (const key of this.list("/")) {
      if (key.endsWith(".partial")) {
        await this.delete(key);
        n++;
      }
    }
    return n;
  }

  async delete(key: StoreKey): Promise<void> {
    await unlink(this.file(key)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }

  async *list(prefix: StoreKey = "/"): AsyncIterable<StoreKey> {
    const base = this.file(prefix);
    let entries;
    try {
      entries = await readdir(base, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const ent of entries) {
      if (!ent.isFile()) continue;
      const full = join(ent.parentPath ?? (ent as unknown as { path: string }).path, ent.name);
      yield ("/" + full.slice(this.root.length + 1).split(sep).join("/")) as StoreKey;
    }
  }

  async deletePrefix(prefix: StoreKey = "/"): Promise<void> {
    const path = this.file(prefix);
    this.madeDirs.clear();
    if (path === this.root) {
      // Empty the directory rather than removing it: it may be a mount point or owned by someone else.
      const names = await readdir(path).catch(() => [] as string[]);
      await Promise.all(names.map((n) => rm(join(path, n), { recursive: true, force: true })));
    } else {
      await rm(path, { recursive: true, force: true });
    }
  }
}
