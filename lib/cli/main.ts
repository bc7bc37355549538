/**
 * The command line: `convert-to-zarr inspect | convert | verify`. Every failure is one line on
 * stderr naming the file and the problem, and a non-zero exit; set CONVERT_TO_ZARR_DEBUG=1 for
 * the stack trace.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { convert, type ConvertSummary } from "../convert.js";
import { ConvertError, describeError, isConvertError } from "../errors.js";
import { formatBytes } from "../format.js";
import { formatInspect, inspect } from "../inspect.js";
import { parseChunkSpec } from "../plan/chunks.js";
import { verify } from "../verify.js";
import { CODEC_NAMES, type CodecName } from "../zarr/codecs.js";
import { encodeJson } from "../zarr/json.js";

const intArg = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(v);
};
const listArg = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

/** Prints the result: JSON with --json, else the text. */
function output(json: boolean | undefined, value: unknown, text: () => string) {
  process.stdout.write((json ? encodeJson(value) : text()) + "\n");
}

const concatDimOption = (help = "dimension to concatenate several files along (default: the unlimited one)") =>
  new Option("--concat-dim <name>", help);

function summaryText(s: ConvertSummary): string {
  const chunks = s.arrays.reduce((a, x) => a + x.chunksWritten, 0);
  const empty = s.arrays.reduce((a, x) => a + x.chunksEmpty, 0);
  const lines = [
    `wrote ${s.store} (Zarr v${s.zarrFormat}, ${s.codec}): ${s.arrays.length} arrays, ${chunks} chunks` +
      `${empty ? ` (+${empty} all-fill chunks not stored)` : ""}, ${formatBytes(s.bytesWritten)} in ${s.seconds.toFixed(2)} s`,
  ];
  for (const k of s.skipped) lines.push(`skipped ${k.path}: unsupported ${k.reason}`);
  return lines.join("\n");
}

export function buildProgram(): Command {
  const program = new Command("convert-to-zarr")
    .description("Convert NetCDF-3 and NetCDF-4/HDF5 files into Zarr v2/v3 stores, losslessly, and verify them.")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str.split("\n")[0] + "\n") });

  program.command("inspect")
    .description("Summarise NetCDF file(s) like `ncdump -hs`: dimensions, variables, chunking, filters, sizes")
    .argument("<input...>", "NetCDF files; several are shown as one collection")
    .addOption(concatDimOption())
    .option("--json", "print JSON instead of text")
    .action(async (inputs: string[], o: { concatDim?: string; json?: boolean }) => {
      const r = await inspect(inputs, o.concatDim ? { concatDim: o.concatDim } : {});
      output(o.json, r, () => formatInspect(r));
    });

  program.command("convert")
    .description("Convert NetCDF file(s) into one Zarr store (several files are concatenated along the record dimension)")
    .argument("<input...>", "NetCDF-3 or NetCDF-4/HDF5 files")
    .requiredOption("-o, --out <store>", "output Zarr store (a directory)")
    .addOption(new Option("--zarr-format <n>", "Zarr format").choices(["2", "3"]).default("3"))
    .addOption(new Option("--codec <name>", "chunk compression").choices(CODEC_NAMES as string[]).default("zstd"))
    .option("--level <n>", "compression level (zstd default 3, gzip and blosc 5)", intArg("--level"))
    .option("--chunks <dim=n,...>", "target chunk sizes by dimension, e.g. time=1080,lat=90,lon=90 (-1: whole dimension)")
    .option("--variables <a,b,...>", "convert only these variables (their coordinates come along)", listArg)
    .addOption(concatDimOption())
    .option("--skip-unsupported", "leave out variables whose type Zarr cannot hold (listed in the summary) instead of refusing")
    .option("--overwrite", "replace an existing Zarr store at --out")
    .option("--json", "print the summary as JSON")
    .action(async (inputs: string[], o: {
      out: string; zarrFormat: string; codec: CodecName; level?: number; chunks?: string; variables?: string[];
      concatDim?: string; skipUnsupported?: boolean; overwrite?: boolean; json?: boolean;
    }) => {
      const summary = await convert(inputs, {
        out: o.out, zarrFormat: Number(o.zarrFormat) as 2 | 3, codec: o.codec,
        ...(o.level !== undefined && { level: o.level }),
        ...(o.chunks && { chunks: parseChunkSpec(o.chunks) }),
        ...(o.variables && { variables: o.variables }),
        ...(o.concatDim && { concatDim: o.concatDim }),
        skipUnsupported: !!o.skipUnsupported, overwrite: !!o.overwrite,
      });
      output(o.json, summary, () => summaryText(summary));
    });

  program.command("verify")
    .description("Compare a Zarr store with its NetCDF source(s): every array, dimension, attribute and value; exits 1 on the first difference")
    .argument("<input...>", "the NetCDF file(s) the store was converted from, then the store")
    .addOption(concatDimOption("as given to convert"))
    .option("--variables <a,b,...>", "as given to convert", listArg)
    .option("--json", "print the report as JSON")
    .action(async (args: string[], o: { concatDim?: string; variables?: string[]; json?: boolean }) => {
      if (args.length < 2) throw new ConvertError("Usage", "verify needs the input file(s) and then the store");
      const store = args[args.length - 1]!;
      const r = await verify(args.slice(0, -1), store, {
        ...(o.concatDim && { concatDim: o.concatDim }), ...(o.variables && { variables: o.variables }),
      });
      output(o.json, { ok: true, ...r }, () =>
        `verified ${store}: ${r.arrays} arrays, ${r.values} values, ${r.attributes} attributes identical to the source` +
          `${r.skipped.length ? ` (unsupported, not in store: ${r.skipped.join(", ")})` : ""}`);
    });
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help") return 0;
    if (typeof code === "string" && code.startsWith("commander.")) return 2; // commander already printed one line
    if (process.env["CONVERT_TO_ZARR_DEBUG"]) console.error(e);
    process.stderr.write(`convert-to-zarr: ${describeError(e)}\n`);
    return isConvertError(e, "Usage") ? 2 : 1;
  }
}
