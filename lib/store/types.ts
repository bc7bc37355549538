/**
 * The one storage interface every backend implements (local disk, S3, and wrappers that add metrics,
 * caching or latency), so the same code runs everywhere. Keys look like zarrita's: "/path/to/key". A missing key reads as undefined.
 * It is a superset of zarrita's readable store, so zarrita can read through any Store.
 */
export type StoreKey = `/${string}`;

export interface Store {
  /** Where the store lives, for messages: a path or an s3:// URL. */
  readonly url: string;
  get(key: StoreKey): Promise<Uint8Array | undefined>;
  /** `length` bytes at `offset` (fewer at the end of the object); undefined when the key is missing. */
  readRange(key: StoreKey, offset: number, length: number): Promise<Uint8Array | undefined>;
  /** Size of the object, or undefined when missing. */
  head(key: StoreKey): Promise<{ size: number } | undefined>;
  set(key: StoreKey, value: Uint8Array): Promise<void>;
  /** Writes only when the key does not exist yet (atomically); false when it did. Used for locks. */
  setIfAbsent(key: StoreKey, value: Uint8Array): Promise<boolean>;
  delete(key: StoreKey): Promise<void>;
  /** Every key below the prefix ("/" for all), in no particular order. */
  list(prefix?: StoreKey): AsyncIterable<StoreKey>;
  /** Removes every key below the prefix. */
  deletePrefix(prefix?: StoreKey): Promise<void>;
  has(key: StoreKey): Promise<boolean>;
  /**
   * Optional: the object's bytes in order, in pieces handed to `take` (each a view that is reused once
   * `take`'s promise settles; resolving false stops the reading), so large objects are never held
   * whole. Resolves to the bytes read, or undefined when the key is missing.
   */
  readPieces?(key: StoreKey, take: (piece: Uint8Array) => Promise<unknown>): Promise<number | undefined>;
}
