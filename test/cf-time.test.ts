/**
 * CF time units and calendars (lib/cf/time.ts): day numbers equal to cftime's date2num(..., "days
 * since 1970-01-01") in every CF calendar (the expected numbers were computed with cftime 1.6.6),
 * the units forms real files use, and exact rebasing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dayNumber, exactDouble, parseCalendar, parseTimeUnits, ratioOf, rebase, type Calendar } from "../lib/cf/time.js";

const DATES: [number, number, number][] = [
  [1970, 1, 1], [1582, 10, 4], [1582, 10, 15], [1, 1, 1], [2000, 2, 29], [1900, 3, 1], [-100, 3, 1], [2021, 12, 31], [1600, 2, 29], [4, 3, 1],
];
/** cftime.date2num(cftime.datetime(y, m, d, calendar=c), "days since 1970-01-01", calendar=c); null: no such date. */
const CFTIME: Record<Calendar, (number | null)[]> = {
  standard: [0, -141428, -141427, -719164, 11016, -25508, -755630, 18992, -135081, -718009],
  proleptic_gregorian: [0, -141438, -141427, -719162, 11016, -25508, -755993, 18992, -135081, -718007],
  julian: [0, -141441, -141430, -719177, 11016, -25508, -755643, 18992, -135084, -718022],
  noleap: [0, -141344, -141333, -718685, null, -25491, -755491, 18979, null, -717531],
  all_leap: [0, -141731, -141720, -720654, 11039, -25560, -757560, 19031, -135361, -719496],
  "360_day": [0, -139407, -139396, -708840, 10858, -25140, -745140, null, -133142, -707700],
};

describe("CF calendars", () => {
  for (const [calendar, expected] of Object.entries(CFTIME) as [Calendar, (number | null)[]][]) {
    test(`${calendar}: day numbers as cftime counts them`, () => {
      const got = DATES.map(([y, m, d]) => {
        try {
          return dayNumber(y, m, d, calendar) - dayNumber(1970, 1, 1, calendar);
        } catch {
          return null;
        }
      });
      assert.deepEqual(got, expected);
    });
  }

  test("the ten days of 1582 and year 0 do not exist in the standard calendar", () => {
    assert.throws(() => dayNumber(1582, 10, 10, "standard"), /does not exist in the standard calendar/);
    assert.throws(() => dayNumber(0, 1, 1, "julian"), /year 0 does not exist/);
    assert.equal(dayNumber(0, 1, 1, "proleptic_gregorian") - dayNumber(-1, 12, 31, "proleptic_gregorian"), 1);
  });

  test("calendar names, aliases and case", () => {
    assert.deepEqual(["gregorian", "Standard", "365_day", "366_day", undefined, "", "NOLEAP"].map(parseCalendar),
      ["standard", "standard", "noleap", "all_leap", "standard", "standard", "noleap"]);
    assert.equal(parseCalendar("lunar"), undefined);
  });
});

describe("time units", () => {
  test("the forms real files write", () => {
    const at = (u: string) => { const t = parseTimeUnits(u, "standard"); return [t.unit, t.day - BigInt(dayNumber(1970, 1, 1, "standard")), t.us]; };
    assert.deepEqual(at("minutes since 2021-01-02 00:30:00"), [60_000_000n, 18629n, 1_800_000_000n]);
    assert.deepEqual(at("hours since 1900-01-01 00:00:00.0"), [3_600_000_000n, -25567n, 0n]);
    assert.deepEqual(at("days since 1998-2-16"), [86_400_000_000n, 10273n, 0n]);
    assert.deepEqual(at("seconds since 1970-01-01T12:00:00Z"), [1_000_000n, 0n, 43_200_000_000n]);
    assert.deepEqual(at("seconds since 1970-01-01 12:00:00 +02:00"), [1_000_000n, 0n, 36_000_000_000n]);
    assert.deepEqual(at("milliseconds since 1970-01-01 00:00:00.123456 UTC"), [1000n, 0n, 123_456n]);
    assert.throws(() => parseTimeUnits("months since 2000-01-01", "standard"), /"months" is no fixed length of time/);
    assert.throws(() => parseTimeUnits("K", "standard"), /cannot read the time units "K"/);
  });

  test("rebasing is exact: MERRA-2's next day is 1440 minutes on; noleap February 16 is 31 days after January 16", () => {
    const m = rebase(parseTimeUnits("minutes since 2021-01-02 00:30:00", "standard"), parseTimeUnits("minutes since 2021-01-01 00:30:00", "standard"));
    assert.deepEqual(m, { scale: { p: 1n, q: 1n }, shift: { p: 1440n, q: 1n } });
    const d = rebase(parseTimeUnits("days since 1998-02-16", "noleap"), parseTimeUnits("days since 1998-01-16", "noleap"));
    assert.deepEqual(d.shift, { p: 31n, q: 1n });
    const h = rebase(parseTimeUnits("minutes since 2021-01-01 00:30", "standard"), parseTimeUnits("hours since 2021-01-01", "standard"));
    assert.deepEqual(h, { scale: { p: 1n, q: 60n }, shift: { p: 1n, q: 2n } });
  });

  test("a ratio is a double only when exactly one", () => {
    assert.equal(exactDouble({ p: 1n, q: 2n }), 0.5);
    assert.equal(exactDouble({ p: 1n, q: 3n }), undefined);
    assert.deepEqual(ratioOf(0.1), { p: 3602879701896397n, q: 36028797018963968n });
    assert.equal(exactDouble(ratioOf(0.1)), 0.1);
  });
});
