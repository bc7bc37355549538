/**
 * Bad input, as a user meets it through the CLI: one line on stderr naming the file and the
 * problem, a non-zero exit, no stack trace, and no store that looks complete.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CORPUS, CORPUS_MISSING, cli, tempDir } from "./helpers.js";

function assertCleanFailure(r: { status: number | null; stderr: string; stdout: string }, status: number, message: RegExp) {
  assert.equal(r.status, status, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `exactly one line on stderr, got: ${r.stderr}`);
  assert.ok(lines[0]!.length < 400, "a short line");
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/, "no stack trace");
  assert.match(lines[0]!, message);
}

describe("bad input", { skip: CORPUS_MISSING }, () => {
  const tmp = tempDir("bad");
  const p = (name: string) => join(tmp.dir, name);
  const corpus = (name: string) => join(CORPUS, name);
  before(() => {
    const eraint = readFileSync(corpus("eraint_uvz.nc"));
    writeFileSync(p("truncated3.nc"), eraint.subarray(0, 2_000_000));
    writeFileSync(p("truncated-header3.nc"), Buffer.from("CDF\x01\x00\x00\x00\x01\x00\x00\x00\x0a", "latin1"));
    const basin = readFileSync(corpus("basin_mask.nc"));
    writeFileSync(p("truncated4.nc"), basin.subarray(0, 50_000));
    const corrupt = Buffer.from(basin);
    corrupt.fill(0x55, 60_000, 100_000); // inside the deflated data of /basin
    writeFileSync(p("corrupt4.nc"), corrupt);
    writeFileSync(p("empty.nc"), "");
    writeFileSync(p("text.nc"), "this is not netcdf\n");
    // A compound with an array member has no Zarr form xarray reads back as the source's type.
    writeFileSync(p("tagged.cdl"), "netcdf tagged {\ntypes:\n  compound tagged_t { int id ; char tag(4) ; } ;\ndimensions:\n  n = 1 ;\nvariables:\n  tagged_t tagged(n) ;\n}\n");
    const ncgen = spawnSync("ncgen", ["-4", "-o", p("tagged.nc"), p("tagged.cdl")], { encoding: "utf8" });
    assert.equal(ncgen.status, 0, ncgen.stderr);
    mkdirSync(p("a-directory.nc"));
    mkdirSync(p("not-a-store"));
    writeFileSync(p("not-a-store/precious.txt"), "keep me");
  });
  after(() => tmp.cleanup());

  const cases: [string, () => string, RegExp][] = [
    ["a missing file", () => p("missing.nc"), /: no such file$/],
    ["a directory", () => p("a-directory.nc"), /a-directory\.nc: is a directory, not a file$/],
    ["an empty file", () => p("empty.nc"), /empty\.nc: empty file, not NetCDF$/],
    ["a text file", () => p("text.nc"), /text\.nc: not a NetCDF or HDF5 file \(no NetCDF-3 or HDF5 signature\)$/],
    ["a truncated NetCDF-3 file", () => p("truncated3.nc"), /truncated3\.nc: truncated: data of variable u ends at byte 2780812, file has 2000000$/],
    ["a truncated NetCDF-3 header", () => p("truncated-header3.nc"), /truncated-header3\.nc: truncated NetCDF-3 header$/],
    ["a truncated NetCDF-4 file", () => p("truncated4.nc"), /truncated4\.nc: cannot open as HDF5 \(truncated or corrupt\?\): .*truncated file: eof = 50000/],
    ["corrupt compressed data", () => p("corrupt4.nc"), /corrupt4\.nc: task \d+ \(\/basin\[0:\d+, 0:180, 0:360\]\) failed: cannot read variable \/basin: .*filter returned failure during read/],
    ["an unsupported type", () => p("tagged.nc"), /tagged\.nc: variable \/tagged has an unsupported compound type with an array member tag \(use --skip-unsupported to leave it out\)$/],
  ];
  for (const [what, input, message] of cases) {
    test(`convert refuses ${what}`, () => {
      const out = p(`out-${what.replace(/\W+/g, "-")}.zarr`);
      assertCleanFailure(cli(["convert", input(), "-o", out]), 1, message);
      assert.equal(existsSync(out), false, "no output left behind");
    });
  }

  test("with worker threads starting beside the open, a bad input fails the same way", () => {
    for (const [input, message] of [[p("missing.nc"), /: no such file$/], [p("truncated4.nc"), /truncated4\.nc: cannot open as HDF5/]] as const) {
      const out = p("out-threads.zarr");
      const r = cli(["convert", input, "-o", out, "--executor", "threads", "--workers", "2"], { timeoutMs: 60_000 });
      assertCleanFailure(r, 1, message);
      assert.equal(existsSync(out), false, "no output left behind");
    }
  });

  test("inspect and verify report the same one-line errors", () => {
    assertCleanFailure(cli(["inspect", p("text.nc")]), 1, /text\.nc: not a NetCDF or HDF5 file/);
    assertCleanFailure(cli(["verify", p("missing.nc"), p("x.zarr")]), 1, /x\.zarr: not a complete Zarr store|missing\.nc: no such file/);
  });

  test("an existing output is refused unless --overwrite, and only a Zarr store is ever replaced", () => {
    const out = p("exists.zarr");
    assert.equal(cli(["convert", corpus("tiny.nc"), "-o", out]).status, 0);
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", out]), 1, /exists\.zarr: output already exists \(use --overwrite to replace it\)$/);
    const again = cli(["convert", corpus("tiny.nc"), "-o", out, "--overwrite", "--zarr-format", "2"]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(existsSync(join(out, ".zgroup")), true);
    assert.equal(existsSync(join(out, "zarr.json")), false, "the old v3 store was cleared");
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", p("not-a-store"), "--overwrite"]), 1,
      /not-a-store: output is a non-empty directory that is not a Zarr store; refusing to delete it$/);
    assert.equal(readFileSync(p("not-a-store/precious.txt"), "utf8"), "keep me");
  });

  test("a failure half-way through an overwrite leaves nothing that looks complete", () => {
    const out = p("half.zarr");
    assert.equal(cli(["convert", corpus("basin_mask.nc"), "-o", out]).status, 0);
    assertCleanFailure(cli(["convert", p("corrupt4.nc"), "-o", out, "--overwrite"]), 1, /cannot read variable \/basin/);
    assert.equal(existsSync(join(out, "zarr.json")), false);
  });

  test("usage errors exit 2 with one line", () => {
    for (const [args, message] of [
      [["convert", corpus("tiny.nc")], /^convert-to-zarr: required option '-o, --out <store>' not specified \(run with --help for usage\)$/],
      [["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--codec", "lzma"], /^convert-to-zarr: option '--codec <name>' argument 'lzma' is invalid\. Allowed choices are .* \(run with --help for usage\)$/],
      [["frobnicate"], /^convert-to-zarr: unknown command 'frobnicate' \(run with --help for usage\)$/],
      [["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--workers", "0"], /^convert-to-zarr: option '--workers <n>' argument '0' is invalid\. --workers must be a whole number of at least 1/],
      [["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--workers", "-1"], /argument '-1' is invalid\. --workers must be a whole number of at least 1/],
      [["convert", corpus("tiny.nc"), "-o", ""], /^convert-to-zarr: --out is empty: name the store to write/],
      [["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--chunks", "nosuch=10"], /^convert-to-zarr: --chunks: no dimension named nosuch \(the inputs have dim_0\)$/],
    ] as const) {
      assertCleanFailure(cli([...args]), 2, message);
      assert.equal(existsSync(p("u.zarr")), false, "nothing written");
    }
    writeFileSync(p("a-file"), "x");
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", p("a-file/x.zarr")]), 2, /a-file\/x\.zarr: output is inside a file, not a directory$/);
    assertCleanFailure(cli(["verify", corpus("tiny.nc")]), 2, /^convert-to-zarr: verify needs the input file\(s\) and then the store$/);
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--chunks", "time"]), 2, /--chunks: expected dim=n, got "time"$/);
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--variables", "nope"]), 2, /--variables: no variable named nope$/);
    assertCleanFailure(cli(["convert", corpus("tiny.nc"), "-o", p("u.zarr"), "--codec", "zstd", "--level", "40"]), 2, /zstd level must be between -131072 and 22, got 40$/);
  });

  test("every subcommand has help", () => {
    for (const cmd of ["inspect", "convert", "verify"]) {
      const r = cli([cmd, "--help"]);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`^Usage: convert-to-zarr ${cmd} \\[options\\] <input\\.\\.\\.>`));
    }
    const top = cli(["--help"]);
    assert.equal(top.status, 0);
    assert.match(top.stdout, /inspect \[options\].*\n[\s\S]*convert \[options\][\s\S]*verify \[options\]/);
  });

  test("verify names the first difference: a changed value, a changed attribute, an interrupted store", () => {
    const src = corpus("tiny.nc");
    const out = p("tamper.zarr");
    assert.equal(cli(["convert", src, "-o", out, "--zarr-format", "2", "--codec", "none"]).status, 0);
    const ok = cli(["verify", src, out]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^verified .*tamper\.zarr: 1 arrays, 5 values, 0 attributes identical to the source$/m);
    const chunk = join(out, "tiny", "0");
    const bytes = readFileSync(chunk);
    bytes.writeInt32LE(bytes.readInt32LE(8) + 1, 8);
    writeFileSync(chunk, bytes);
    assertCleanFailure(cli(["verify", src, out]), 1, /tamper\.zarr: variable \/tiny: value differs at \[2\]: source 2, store 3$/);

    const out2 = p("tamper-attr.zarr");
    const src2 = corpus("scipy_example_2.nc");
    assert.equal(cli(["convert", src2, "-o", out2]).status, 0);
    const doc = join(out2, "zarr.json");
    const text = readFileSync(doc, "utf8");
    assert.match(text, /"add_offset": 20,/);
    writeFileSync(doc, text.replace(/"add_offset": 20,/, '"add_offset": 21,'));
    assertCleanFailure(cli(["verify", src2, out2]), 1, /variable \/Temperature: attribute add_offset differs: source 20, store 21$/);

    writeFileSync(join(out2, ".convert-to-zarr-in-progress"), "{}");
    assertCleanFailure(cli(["verify", src2, out2]), 1, /tamper-attr\.zarr: store is incomplete: a conversion is in progress or was interrupted$/);
  });
});
