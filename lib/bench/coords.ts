/**
 * Coordinate values → indices, the way xarray's `.sel(..., method="nearest")` and slice selection
 * behave, and CF time units ("hours since 2021-01-01 00:00:00") for the standard calendars, so users
 * ask for places and times, not positions.
 */
import { ConvertError } from "../errors.js";

/** Index of the value nearest to x (the first of equals), in ascending or descending coordinates. */
export function nearestIndex(values: ArrayLike<number>, x: number): number {
  if (values.length === 0) throw new ConvertError("Usage", "empty coordinate");
  let best = 0, bestDist = Infinity;
  for (let i = 0; i < values.length; i++) {
    const d = Math.abs(values[i]! - x);
    if (d < bestDist) {
      best = i;
      bestDist = d;
    }
  }
  return best;
}

/** [start, count] of the indices whose values lie in [lo, hi] (either order; coordinates must be monotonic). */
export function rangeIndices(values: ArrayLike<number>, lo: number, hi: number): [number, number] {
  const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
  let first = -1, last = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v >= a && v <= b) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return [0, 0];
  return [first, last - first + 1];
}

const UNIT_MS: Record<string, number> = {
  millisecond: 1, milliseconds: 1, msec: 1, ms: 1,
  second: 1e3, seconds: 1e3, sec: 1e3, secs: 1e3, s: 1e3,
  minute: 6e4, minutes: 6e4, min: 6e4, mins: 6e4,
  hour: 36e5, hours: 36e5, hr: 36e5, hrs: 36e5, h: 36e5,
  day: 864e5, days: 864e5, d: 864e5,
};
const STANDARD = new Set(["standard", "gregorian", "proleptic_gregorian"]);

export interface TimeUnits {
  unitMs: number;
  epochMs: number;
}

/** "hours since 2021-01-01 00:00:00" (standard calendars) → unit and epoch; undefined when not a CF time. */
export function parseTimeUnits(units: string | undefined, calendar = "standard"): TimeUnits | undefined {
  if (!units || !STANDARD.has(calendar.toLowerCase())) return undefined;
  const m = /^\s*(\w+)\s+since\s+(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?\s*$/i.exec(units);
  if (!m) return undefined;
  const unitMs = UNIT_MS[m[1]!.toLowerCase()];
  if (!unitMs) return undefined;
  const sec = Number(m[7] ?? 0);
  let epochMs = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0), Math.floor(sec), Math.round((sec % 1) * 1000));
  const tz = m[8];
  if (tz && !/^(Z|UTC)$/i.test(tz)) {
    const t = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(tz)!;
    epochMs -= (t[1] === "-" ? -1 : 1) * (Number(t[2]) * 60 + Number(t[3] ?? 0)) * 6e4;
  }
  return { unitMs, epochMs };
}

/** A time given as a number (in the coordinate's units) or an ISO date, as a coordinate value. */
export function timeValue(t: number | string, units: TimeUnits | undefined, what: string): number {
  if (typeof t === "number") return t;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (!units) throw new ConvertError("Usage", `${what}: "${t}" is a date, but the time coordinate has no standard CF units; give a number`);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : t + "Z");
  if (Number.isNaN(ms)) throw new ConvertError("Usage", `${what}: cannot read "${t}" as a date`);
  return (ms - units.epochMs) / units.unitMs;
}

/** A coordinate value as an ISO date (UTC), for tables and plots. */
export function isoTime(value: number, units: TimeUnits): string {
  return new Date(units.epochMs + value * units.unitMs).toISOString().replace(/\.000Z$/, "Z");
}
