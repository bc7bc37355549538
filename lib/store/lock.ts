/**
 * One writer per store: a lock object created with an atomic "only if absent" write, holding its
 * owner (host and pid) and start time. A lock whose process is gone (same host) is stale: --resume
 * or --overwrite may take it over; a live one is never taken.
 */
import { hostname } from "node:os";
import { ConvertError } from "../errors.js";
import { LOCK_KEY } from "../exec/job.js";
import { jsonBytes } from "../zarr/json.js";
import { getJson } from "./read.js";
import type { Store } from "./types.js";

export interface LockInfo {
  owner: string;
  host: string;
  pid: number;
  started: string;
  /** False only when the owner is on this host and its process is gone. */
  alive: boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function readLock(store: Store): Promise<LockInfo | undefined> {
  const l = await getJson<{ host: string; pid: number; started: string }>(store, LOCK_KEY);
  if (!l) return undefined;
  const alive = l.host !== hostname() || processAlive(l.pid);
  return { ...l, owner: `${l.host}:${l.pid}`, alive };
}

export async function acquireLock(store: Store, where: string, takeOverStale: boolean): Promise<void> {
  const body = jsonBytes({ host: hostname(), pid: process.pid, started: new Date().toISOString() });
  if (await store.setIfAbsent(LOCK_KEY, body)) return;
  const held = await readLock(store);
  if (!held) return acquireLock(store, where, takeOverStale); // released in between
  if (held.alive) throw new ConvertError("OutputExists", `store is being written by ${held.owner} since ${held.started}`, where);
  if (!takeOverStale) {
    throw new ConvertError("OutputExists", `store has a lock from ${held.owner}, a run that is gone; use --resume to continue it or --overwrite to start over`, where);
  }
  await store.delete(LOCK_KEY);
  if (!(await store.setIfAbsent(LOCK_KEY, body))) {
    const now = await readLock(store);
    throw new ConvertError("OutputExists", `store is being written by ${now?.owner ?? "another run"}`, where);
  }
}

/** Gives up the lock if this process holds it (a failed run that leaves its store for --resume). */
export async function releaseLock(store: Store): Promise<void> {
  const held = await readLock(store);
  if (held && held.host === hostname() && held.pid === process.pid) await store.delete(LOCK_KEY);
}
