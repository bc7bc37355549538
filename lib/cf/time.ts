/**
 * CF time units ("minutes since 2021-01-02 00:30:00") in the CF calendars, as exact integers of
 * microseconds: what re-expressing one file's time values in another file's units needs. Written by
 * hand: no maintained JavaScript package implements the CF calendars (cftime is Python), and the
 * arithmetic is small — day numbers per calendar plus a time of day.
 */

export type Calendar = "standard" | "proleptic_gregorian" | "julian" | "noleap" | "all_leap" | "360_day";

const CALENDAR_NAMES: Record<string, Calendar> = {
  standard: "standard", gregorian: "standard", proleptic_gregorian: "proleptic_gregorian", julian: "julian",
  noleap: "noleap", "365_day": "noleap", all_leap: "all_leap", "366_day": "all_leap", "360_day": "360_day",
};

/** The calendar an attribute names (absent: CF's default, standard), or undefined if it is none of CF's. */
export function parseCalendar(attr: string | undefined): Calendar | undefined {
  return attr === undefined || attr === "" ? "standard" : CALENDAR_NAMES[attr.trim().toLowerCase()];
}

/** Microseconds per unit (udunits' names and abbreviations; months and years are no fixed length). */
const UNIT_US: Record<string, bigint> = {};
for (const [names, us] of [
  [["microseconds", "microsecond", "us"], 1n],
  [["milliseconds", "millisecond", "msec", "ms"], 1000n],
  [["seconds", "second", "secs", "sec", "s"], 1_000_000n],
  [["minutes", "minute", "mins", "min"], 60_000_000n],
  [["hours", "hour", "hrs", "hr", "h"], 3_600_000_000n],
  [["days", "day", "d"], 86_400_000_000n],
] as const) for (const n of names) UNIT_US[n] = us;

export interface TimeUnits {
  /** The attribute as written. */
  text: string;
  /** Microseconds per unit. */
  unit: bigint;
  /** The reference date: its day number in its calendar and the microseconds into that day (UTC). */
  day: bigint;
  us: bigint;
}

/** Any "<unit> since <date>" attribute, by its shape (before knowing whether we can read it). */
export const looksLikeTimeUnits = (units: string | undefined): boolean => /^\s*\S+\s+since\s+\S/i.test(units ?? "");

/**
 * Parses "<unit> since <date>[ <time>][ <zone>]" in a calendar: dates as Y-M-D (one-digit parts
 * allowed), times as h:m[:s[.f]], "T" or space between, zones "Z", "UTC" or ±hh[:mm]. Throws an
 * Error saying what it cannot read.
 */
export function parseTimeUnits(text: string, calendar: Calendar): TimeUnits {
  const m = /^\s*(\S+)\s+since\s+([+-]?\d{1,6})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read the time units "${text}"`);
  const unit = UNIT_US[m[1]!.toLowerCase()];
  if (unit === undefined) throw new Error(`time units "${text}": "${m[1]}" is no fixed length of time`);
  const [y, mo, d] = [Number(m[2]), Number(m[3]), Number(m[4])];
  let us = BigInt(Number(m[5] ?? 0) * 3600 + Number(m[6] ?? 0) * 60 + Number(m[7] ?? 0)) * 1_000_000n + BigInt((m[8] ?? "").padEnd(6, "0") || "0");
  const zone = m[9];
  if (zone && !/^(Z|UTC)$/i.test(zone)) {
    const z = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    const offset = BigInt((Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60) * 1_000_000n;
    us += z[1] === "+" ? -offset : offset; // 12:00+02:00 is 10:00 UTC
  }
  return { text, unit, day: BigInt(dayNumber(y, mo, d, calendar)), us };
}

const CUMULATIVE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** Days from a fixed origin of each calendar to a date (comparable within one calendar only). */
export function dayNumber(y: number, m: number, d: number, calendar: Calendar): number {
  if (m < 1 || m > 12 || d < 1) throw new Error(`${y}-${m}-${d} is not a date`);
  const leapDay = (leap: boolean) => (m === 2 && leap ? 1 : 0);
  switch (calendar) {
    case "360_day":
      if (d > 30) throw new Error(`${y}-${m}-${d} is not a date in the 360_day calendar`);
      return y * 360 + (m - 1) * 30 + d - 1;
    case "noleap":
      if (d > MONTH_DAYS[m - 1]!) throw new Error(`${y}-${m}-${d} is not a date in the noleap calendar`);
      return y * 365 + CUMULATIVE[m - 1]! + d - 1;
    case "all_leap":
      if (d > MONTH_DAYS[m - 1]! + (m === 2 ? 1 : 0)) throw new Error(`${y}-${m}-${d} is not a date in the all_leap calendar`);
      return y * 366 + CUMULATIVE[m - 1]! + (m > 2 ? 1 : 0) + d - 1;
    case "proleptic_gregorian":
      if (d > MONTH_DAYS[m - 1]! + leapDay(gregorianLeap(y))) throw new Error(`${y}-${m}-${d} is not a date`);
      return gregorianDays(y, m, d);
    case "julian":
      y = astronomical(y, calendar);
      if (d > MONTH_DAYS[m - 1]! + leapDay(y % 4 === 0)) throw new Error(`${y}-${m}-${d} is not a date in the julian calendar`);
      return julianDays(y, m, d);
    case "standard": {
      y = astronomical(y, calendar);
      // Julian up to 1582-10-04, Gregorian from 1582-10-15; the ten days between do not exist.
      const gregorian = y > 1582 || (y === 1582 && (m > 10 || (m === 10 && d >= 15)));
      if (!gregorian && y === 1582 && m === 10 && d > 4) throw new Error(`${y}-${m}-${d} does not exist in the standard calendar`);
      if (d > MONTH_DAYS[m - 1]! + leapDay(gregorian ? gregorianLeap(y) : y % 4 === 0)) throw new Error(`${y}-${m}-${d} is not a date`);
      return gregorian ? gregorianDays(y, m, d) : julianDays(y, m, d);
    }
  }
}

/** The standard and julian calendars have no year zero (as cftime reads them): -1 is 1 BC, astronomical 0. */
function astronomical(y: number, calendar: Calendar): number {
  if (y === 0) throw new Error(`year 0 does not exist in the ${calendar} calendar`);
  return y < 0 ? y + 1 : y;
}

const gregorianLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil). */
function gregorianDays(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = floorDiv(yy, 400);
  const yoe = yy - era * 400;
  const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Days from 1970-01-01 (Gregorian) of a Julian-calendar date, so both count on one axis. */
function julianDays(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  // Julian day number of the date, minus that of 1970-01-01 (2440588).
  return 365 * yy + floorDiv(yy, 4) + doy + 1721118 - 2440588;
}

/** A rational number p / q with q > 0, exact. */
export interface Ratio {
  p: bigint;
  q: bigint;
}

/**
 * How a value in units `from` becomes one in units `to` (one calendar): v' = v · scale + shift, as
 * exact ratios. E.g. minutes since day 2 → minutes since day 1: scale 1, shift 1440.
 */
export function rebase(from: TimeUnits, to: TimeUnits): { scale: Ratio; shift: Ratio } {
  const fromEpoch = from.day * 86_400_000_000n + from.us, toEpoch = to.day * 86_400_000_000n + to.us;
  return { scale: reduce({ p: from.unit, q: to.unit }), shift: reduce({ p: fromEpoch - toEpoch, q: to.unit }) };
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

export function reduce(r: Ratio): Ratio {
  const g = gcd(r.p, r.q) || 1n;
  const s = r.q < 0n ? -1n : 1n;
  return { p: (s * r.p) / g, q: (s * r.q) / g };
}

/** A finite double as an exact ratio (its significand over a power of two). */
export function ratioOf(x: number): Ratio {
  if (!Number.isFinite(x)) throw new Error(`${x} is not finite`);
  if (Number.isInteger(x)) return { p: BigInt(x), q: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const sig = exp === 0 ? mant : mant | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075; // x = sig · 2^e
  return reduce(e >= 0 ? { p: sign * (sig << BigInt(e)), q: 1n } : { p: sign * sig, q: 1n << BigInt(-e) });
}

/** The double equal to `r`, or undefined when no double is exactly `r`. */
export function exactDouble(r: Ratio): number | undefined {
  const x = Number(r.p) / Number(r.q);
  if (!Number.isFinite(x)) return undefined;
  const back = ratioOf(x);
  return back.p * r.q === r.p * back.q ? x : undefined;
}
