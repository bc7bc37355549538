/**
 * Where each chunk of an HDF5 dataset lies in the file, for copying compressed chunks without
 * decoding them. h5wasm has no chunk API and jsfive needs the whole file in memory, so this reads
 * just what it needs with pread (HDF5 File Format Specification v3): the superblock's address sizes,
 * the dataset's object header (v1 or v2, with continuation blocks), its data layout message, and the
 * version 1 B-tree that netCDF-C's files index chunks with (layout v3), or a single chunk (layout v4).
 * Other chunk indexes (fixed/extensible arrays, v2 B-trees) answer "no index": callers then decode.
 */
import type { ByteSource } from "../io/byte-source.js";

export interface ChunkLocation {
  /** Absolute file offset and stored (compressed) size. */
  offset: number;
  size: number;
  /** Bit i set: filter i of the pipeline was skipped for this chunk. */
  filterMask: number;
}

/** Chunk grid coordinates ("0,3,1") → location. Missing chunks were never written (fill value). */
export type ChunkIndex = Map<string, ChunkLocation>;

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

class Reader {
  constructor(private src: ByteSource) {}
  bytes(pos: number, n: number): Buffer {
    const b = Buffer.alloc(n);
    const got = this.src.readInto(pos, n, b, 0);
    if (got < n) throw new Error(`unexpected end of file at ${pos + got}`);
    return b;
  }
}

function uint(b: Buffer, at: number, size: number): number {
  switch (size) {
    case 1: return b.readUInt8(at);
    case 2: return b.readUInt16LE(at);
    case 4: return b.readUInt32LE(at);
    case 8: {
      const v = b.readBigUInt64LE(at);
      return v === 0xffffffffffffffffn ? -1 : Number(v);
    }
    default: throw new Error(`unsupported integer size ${size}`);
  }
}

interface Superblock { base: number; sizeOfOffsets: number; sizeOfLengths: number }

function superblock(r: Reader): Superblock {
  for (let at = 0; at < 1 << 30; at = at === 0 ? 512 : at * 2) {
    const head = r.bytes(at, 48);
    if (!head.subarray(0, 8).equals(HDF5_SIGNATURE)) continue;
    const version = head[8]!;
    if (version <= 1) return { base: at, sizeOfOffsets: head[13]!, sizeOfLengths: head[14]! };
    return { base: at, sizeOfOffsets: head[9]!, sizeOfLengths: head[10]! };
  }
  throw new Error("no HDF5 superblock");
}

interface Message { type: number; data: Buffer }

/** All header messages of the object at `addr` (absolute), following continuation blocks. */
function headerMessages(r: Reader, sb: Superblock, addr: number): Message[] {
  const out: Message[] = [];
  const O = sb.sizeOfOffsets, L = sb.sizeOfLengths;
  const first = r.bytes(addr, 16);
  const blocks: { pos: number; len: number; v2: boolean; cont: boolean }[] = [];
  let v2 = false;
  if (first.toString("latin1", 0, 4) === "OHDR") {
    v2 = true;
    const flags = first[5]!;
    let pos = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 0x03);
    const head = r.bytes(addr, pos + sizeBytes);
    const len = uint(head, pos, sizeBytes);
    pos += sizeBytes;
    blocks.push({ pos: addr + pos, len, v2, cont: false });
  } else if (first[0] === 1) {
    blocks.push({ pos: addr + 16, len: first.readUInt32LE(8), v2, cont: false });
  } else {
    throw new Error(`unknown object header version ${first[0]}`);
  }
  const trackOrder = v2 && (first[5]! & 0x04) !== 0;
  while (blocks.length) {
    const blk = blocks.shift()!;
    let start = blk.pos, end = blk.pos + blk.len;
    if (blk.v2 && blk.cont) start += 4; // "OCHK"
    if (blk.v2) end -= 4; // checksum
    const buf = r.bytes(start, end - start);
    let p = 0;
    while (p < buf.length) {
      let type: number, size: number;
      if (blk.v2) {
        if (p + 4 > buf.length) break;
        type = buf[p]!;
        size = buf.readUInt16LE(p + 1);
        p += 4 + (trackOrder ? 2 : 0);
      } else {
        if (p + 8 > buf.length) break;
        type = buf.readUInt16LE(p);
        size = buf.readUInt16LE(p + 2);
        p += 8;
      }
      const data = buf.subarray(p, p + size);
      p += size;
      if (type === 0x10) blocks.push({ pos: sb.base + uint(data, 0, O), len: uint(data, O, L), v2: blk.v2, cont: true });
      else out.push({ type, data });
    }
  }
  return out;
}

/** Walks a version 1 B-tree of raw data chunks. */
function walkBTree(r: Reader, sb: Superblock, addr: number, rank: number, chunkDims: number[], into: ChunkIndex) {
  const O = sb.sizeOfOffsets;
  const keySize = 8 + 8 * (rank + 1);
  const head = r.bytes(addr, 8 + 2 * O);
  if (head.toString("latin1", 0, 4) !== "TREE" || head[4] !== 1) throw new Error("not a raw-data-chunk B-tree node");
  const level = head[5]!, entries = head.readUInt16LE(6);
  const body = r.bytes(addr + 8 + 2 * O, entries * (keySize + O) + keySize);
  for (let i = 0; i < entries; i++) {
    const k = i * (keySize + O);
    const size = body.readUInt32LE(k), filterMask = body.readUInt32LE(k + 4);
    const coords: number[] = [];
    for (let d = 0; d < rank; d++) coords.push(Number(body.readBigUInt64LE(k + 8 + 8 * d)) / chunkDims[d]!);
    const child = sb.base + uint(body, k + keySize, O);
    if (level > 0) walkBTree(r, sb, child, rank, chunkDims, into);
    else into.set(coords.join(","), { offset: child, size, filterMask });
  }
}

/**
 * The chunk index of the dataset whose object header is at `headerAddr` (relative to the base, as an
 * HDF5 object reference holds it), or undefined when its layout or index type is not one we read.
 */
export function readChunkIndex(src: ByteSource, headerAddr: number, rank: number): ChunkIndex | undefined {
  try {
    const r = new Reader(src);
    const sb = superblock(r);
    const layout = headerMessages(r, sb, sb.base + headerAddr).find((m) => m.type === 0x08);
    if (!layout) return undefined;
    const d = layout.data, O = sb.sizeOfOffsets, L = sb.sizeOfLengths;
    const version = d[0]!, cls = d[1]!;
    const index: ChunkIndex = new Map();
    if (version === 3 && cls === 2) {
      const dims = d[2]!; // rank + 1 (the last is the element size)
      const btree = uint(d, 3, O);
      const chunkDims = Array.from({ length: dims }, (_, i) => d.readUInt32LE(3 + O + 4 * i)).slice(0, rank);
      if (btree !== -1) walkBTree(r, sb, sb.base + btree, rank, chunkDims, index);
      return index;
    }
    if (version === 4 && cls === 2) {
      const flags = d[2]!, dims = d[3]!, enc = d[4]!;
      let p = 5 + dims * enc;
      const indexType = d[p++]!;
      if (indexType !== 1) return undefined; // only "single chunk"
      let size = -1, filterMask = 0;
      if (flags & 0x02) {
        size = uint(d, p, L);
        filterMask = d.readUInt32LE(p + L);
        p += L + 4;
      }
      const addr = uint(d, p, O);
      if (addr !== -1 && size >= 0) index.set(new Array(rank).fill(0).join(","), { offset: sb.base + addr, size, filterMask });
      return size >= 0 ? index : undefined;
    }
    return undefined;
  } catch {
    return undefined; // anything unexpected: decode instead of guessing
  }
}

/** Reads raw byte ranges of one file (a located chunk), into `into` when given and big enough. */
export function readRawBytes(src: ByteSource, offset: number, size: number, into?: Uint8Array): Uint8Array {
  const out = into && into.byteLength >= size ? into.subarray(0, size) : new Uint8Array(size);
  const got = src.readInto(offset, size, out, 0);
  if (got < size) throw new Error(`unexpected end of file at ${offset + got}`);
  return out;
}
