/**
 * zlib inflation into one buffer per thread, reused from chunk to chunk. zlib.inflateSync returns a
 * fresh buffer each time; for 20 MB source chunks that is 20 MB of new memory per chunk, which the
 * kernel faults in page by page and V8 counts towards its next full garbage collection: on the seed
 * job (59 chunks per run) those cost more CPU than the inflating. node:zlib has no public call that
 * inflates into a caller's buffer, so this drives its native handle the way zlib.inflateSync does
 * internally (handle.writeSync and _writeState, the same from Node 20 to 24). Where they are missing
 * it says so (`reusedInflate`), and the caller falls back to zlib.inflateSync.
 */
import * as zlib from "node:zlib";

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
type Inflater = zlib.Inflate & { _handle?: NativeHandle | null; _writeState?: Uint32Array };

function fresh(): Inflater {
  const z = zlib.createInflate() as Inflater;
  z.on("error", () => {}); // a bad stream destroys it; the caller is told by the result
  return z;
}

let inflater: Inflater | undefined = fresh();
let room = new Uint8Array(0);

/** Whether this Node's zlib offers what inflateInto needs. */
export const reusedInflate = typeof inflater._handle?.writeSync === "function" && inflater._writeState instanceof Uint32Array;

/**
 * The zlib stream `input` inflated, when it is complete, valid and exactly `size` bytes: a view of
 * this thread's buffer, valid until the next call. Undefined otherwise, and when not available.
 */
export function inflateInto(input: Uint8Array, size: number): Uint8Array | undefined {
  if (!reusedInflate) return undefined;
  // One byte of spare room: a stream that ends exactly at `size` leaves it free, one that is cut
  // short cannot fill it and zlib reports the early end.
  if (room.byteLength < size + 1) room = new Uint8Array(size + 1);
  const z = (inflater ??= fresh());
  z.reset();
  z._handle!.writeSync(zlib.constants.Z_FINISH, input, 0, input.byteLength, room, 0, size + 1);
  const [outLeft, inLeft] = z._writeState!;
  if (z.destroyed || !z._handle) {
    inflater = undefined;
    return undefined;
  }
  return outLeft === 1 && inLeft === 0 ? room.subarray(0, size) : undefined;
}

/** Lets go of this thread's output buffer (a task does, once it has read its sources). */
export function releaseInflateBuffer(): void {
  room = new Uint8Array(0);
}
