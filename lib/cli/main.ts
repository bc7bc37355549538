/**
 * The command line: `convert-to-zarr inspect | plan | convert | verify | bench | s3-local | ecs-local`. Every failure is one line on
 * stderr naming the file and the problem, and a non-zero exit; set CONVERT_TO_ZARR_DEBUG=1 for
 * the stack trace.
 */
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { convert, planConversion, type ConvertOptions } from "../convert.js";
import { EXECUTOR_NAMES } from "../exec/registry.js";
import { parseBytes } from "../plan/sizes.js";
import { progressView } from "./progress.js";
import { ConvertError, describeError, isConvertError } from "../errors.js";
import { formatInspect, inspect } from "../inspect.js";
import { execEventText, planText, summaryText } from "./text.js";
import { estimateForPlan, formatCostEstimate } from "../exec/ecs/cost.js";
import { parseChunkSpec } from "../plan/chunks.js";
import { verify } from "../verify.js";
import { CODEC_NAMES, type CodecName } from "../zarr/codecs.js";
import { encodeJson } from "../zarr/json.js";
import { setRemoteMode, type RemoteMode } from "../io/open.js";
import { localStateFile } from "../store/s3-config.js";
import { startLocalS3, startProxyProcess } from "../s3local/start.js";
import { runBench } from "../bench/run.js";
import { formatBench, formatSweep } from "../bench/table.js";
import { chunkSweep } from "../bench/sweep.js";
import { QUERY_KINDS, type QuerySpec } from "../bench/queries.js";
import { PROFILES } from "../s3local/proxy.js";
import { firstRequestAt } from "../store/metrics.js";
import { inputS3Settings, s3Settings, setInputAccess, useInputS3Settings, useS3Settings } from "../store/s3-config.js";
import { isS3Url } from "../store/s3-url.js";
import { startLocalEcs } from "../ecslocal/server.js";
import { LOCAL_TASK_DEFINITION, writeLocalEcsState } from "../ecslocal/state.js";

const intArg = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(v);
};
const positiveArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return Number(v);
};
const listArg = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

/** Prints the result: JSON with --json, else the text. */
function output(json: boolean | undefined, value: unknown, text: () => string) {
  process.stdout.write((json ? encodeJson(value) : text()) + "\n");
}

const remoteReadOption = () =>
  new Option("--remote-read <mode>", "s3:// inputs: read byte ranges as needed, or download each file whole first").choices(["ranged", "download"]).default("ranged");

/** s3:// inputs only: the output store keeps the usual resolution (credentials, endpoint). */
const noSignOption = () =>
  new Option("--no-sign-request", "s3:// inputs: read anonymously, unsigned (public buckets such as AWS Open Data); the output keeps your credentials (also AWS_NO_SIGN_REQUEST=YES)");
const requestPayerOption = () =>
  new Option("--request-payer <who>", "s3:// inputs in Requester Pays buckets: agree to pay for the requests and transfer").choices(["requester"]);

const concatDimOption = (help = "dimension to concatenate several files along (default: the unlimited one)") =>
  new Option("--concat-dim <name>", help);


interface ConvertFlags {
  out: string; zarrFormat: string; codec: CodecName; level?: number; shuffle?: boolean; chunks?: string; variables?: string[];
  concatDim?: string; timeUnits?: string; unpack?: boolean; skipUnsupported?: boolean; overwrite?: boolean; json?: boolean; maxMem?: string;
  workers?: number; executor?: string; resume?: boolean; append?: boolean; quiet?: boolean;
}

function convertOptions(o: ConvertFlags): ConvertOptions {
  if (!o.out.trim()) throw new ConvertError("Usage", "--out is empty: name the store to write (a directory or s3://bucket/prefix)");
  return {
    out: o.out, zarrFormat: Number(o.zarrFormat) as 2 | 3, codec: o.codec,
    ...(o.level !== undefined && { level: o.level }),
    ...(o.shuffle !== undefined && { shuffle: o.shuffle }),
    ...(o.chunks && { chunks: parseChunkSpec(o.chunks) }),
    ...(o.variables && { variables: o.variables }),
    ...(o.concatDim && { concatDim: o.concatDim }),
    ...(o.timeUnits && { timeUnits: o.timeUnits }),
    ...(o.unpack && { unpack: true }),
    ...(o.maxMem && { maxMem: parseBytes(o.maxMem) }),
    ...(o.workers !== undefined && { workers: o.workers }),
    ...(o.executor && { executor: o.executor as ConvertOptions["executor"] }),
    skipUnsupported: !!o.skipUnsupported, overwrite: !!o.overwrite, resume: !!o.resume, append: !!o.append,
  };
}

interface BenchFlags {
  netcdf: string[];
  zarr?: string;
  query: string;
  variable?: string;
  lat?: number;
  lon?: number;
  time?: string;
  repeats: number;
  profile: "local" | "s3";
  download?: boolean;
  sweep?: string[];
  sweepOut?: string;
  sweepFiles?: number;
  json?: boolean;
}

/** The options convert and plan share. */
function conversionOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-o, --out <store>", "output Zarr store: a directory or an s3://bucket/prefix URL")
    .addOption(remoteReadOption())
    .addOption(noSignOption())
    .addOption(requestPayerOption())
    .addOption(new Option("--zarr-format <n>", "Zarr format").choices(["2", "3"]).default("3"))
    .addOption(new Option("--codec <name>", "chunk compression").choices(CODEC_NAMES as string[]).default("zstd"))
    .option("--level <n>", "compression level (zstd default 3, gzip and blosc 5)", intArg("--level"))
    .option("--shuffle", "byte-shuffle numbers before zstd/gzip (numcodecs' shuffle; default for --zarr-format 2)")
    .option("--no-shuffle", "do not byte-shuffle (default for --zarr-format 3: numcodecs.shuffle is no v3 spec codec)")
    .option("--chunks <dim=n,...>", "target chunk sizes by dimension, e.g. time=1080,lat=90,lon=90 (-1: whole dimension)")
    .option("--variables <a,b,...>", "convert only these variables (their coordinates come along)", listArg)
    .addOption(concatDimOption())
    .option("--time-units <units>", "store times in these units, e.g. \"days since 1998-01-16\" (default: the first file's; files whose time units differ are re-expressed exactly)")
    .option("--unpack", "store packed variables (scale_factor/add_offset) as the floats CF decoding gives, missing values NaN, so files packed differently can be combined")
    .option("--skip-unsupported", "leave out variables whose type Zarr cannot hold (listed in the summary) instead of refusing")
    .option("--max-mem <size>", "memory budget per worker, e.g. 1GiB, 512MB (default 1GiB)")
    .option("--workers <n>", "tasks at once (default: CPUs, at most 4; ecs: containers, 16 capped by the pool)", positiveArg("--workers"))
    .addOption(new Option("--executor <name>", "where tasks run (auto: inline for small jobs, else threads; ecs: the deployed stack's Fargate workers)").choices(["auto", ...EXECUTOR_NAMES]).default("auto"))
    .option("--append", "append the inputs to the existing store at --out, along its concat dimension")
    .option("--json", "print the result as JSON");
}

export function buildProgram(): Command {
  const program = new Command("convert-to-zarr")
    .description("Convert NetCDF-3 and NetCDF-4/HDF5 files into Zarr v2/v3 stores, losslessly, and verify them.")
    .version("0.1.0")
    .exitOverride()
    // One line with the program's name, as for every other error ("error: unknown option '--x'").
    .configureOutput({ outputError: (str, write) => write(`convert-to-zarr: ${str.split("\n")[0]!.replace(/^error: /, "")} (run with --help for usage)\n`) })
    .hook("preAction", (_program, action) => {
      const opts = action.opts();
      const mode = opts["remoteRead"] as RemoteMode | undefined;
      if (mode) setRemoteMode(mode);
      // Given on the command line: else AWS_NO_SIGN_REQUEST, read when the first input is.
      const unsigned = opts["signRequest"] === false, payer = opts["requestPayer"] as "requester" | undefined;
      if (unsigned || payer) setInputAccess({ ...(unsigned && { unsigned }), ...(payer && { requestPayer: payer }) });
    });

  program.command("inspect")
    .description("Summarise NetCDF file(s) like `ncdump -hs`: dimensions, variables, chunking, filters, sizes")
    .argument("<input...>", "NetCDF files or s3:// URLs (globs too); several are shown as one collection")
    .addOption(concatDimOption())
    .addOption(remoteReadOption())
    .addOption(noSignOption())
    .addOption(requestPayerOption())
    .option("--json", "print JSON instead of text")
    .action(async (inputs: string[], o: { concatDim?: string; json?: boolean }) => {
      const r = await inspect(inputs, o.concatDim ? { concatDim: o.concatDim } : {});
      output(o.json, r, () => formatInspect(r));
    });

  conversionOptions(program.command("plan")
    .description("Show what convert would do, without writing: tasks, objects, bytes, memory, read amplification")
    .argument("<input...>", "NetCDF-3 or NetCDF-4/HDF5 files or s3:// URLs (globs too)"))
    .action(async (inputs: string[], o: ConvertFlags) => {
      const { job, plan, skipped, notCopied } = await planConversion(inputs, convertOptions(o));
      // On ECS the plan's question is also what it will cost.
      const ecs = o.executor === "ecs" ? await estimateForPlan(plan.estimates, o.workers) : undefined;
      output(o.json, { job, estimates: plan.estimates, arrays: plan.arrays, skipped, notCopied, ...(ecs && { cost: ecs }) }, () =>
        [planText(job, plan), ...(job.copy ? [`copied as stored: ${job.copy.join(", ") || "none"}`] : []),
          ...notCopied.map((n) => `re-encoded with zstd: ${n.path} (${n.reason})`),
          ...skipped.map((k) => `skipped ${k.path}: unsupported ${k.reason}`),
          ...(ecs ? [`${formatCostEstimate(ecs.estimate)}; ${ecs.pool}`] : [])].join("\n"));
    });

  conversionOptions(program.command("convert")
    .description("Convert NetCDF file(s) into one Zarr store (several files are concatenated along the record dimension)")
    .argument("<input...>", "NetCDF-3 or NetCDF-4/HDF5 files or s3:// URLs (globs too)"))
    .option("--overwrite", "replace an existing Zarr store at --out")
    .option("--resume", "continue an interrupted run on --out (same inputs and options), skipping finished tasks")
    .option("-q, --quiet", "no progress output")
    .action(async (inputs: string[], o: ConvertFlags) => {
      const view = o.quiet || o.json ? undefined : await progressView();
      // Ctrl-C stops what the run started, including ECS workers that would otherwise run on.
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
      try {
        const summary = await convert(inputs, {
          ...convertOptions(o), signal: interrupt.signal,
          ...(view && { onProgress: (p) => view.update(p), onEvent: (e) => view.note(execEventText(e)) }),
        });
        view?.stop();
        output(o.json, summary, () => summaryText(summary));
      } finally {
        view?.stop();
        process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      }
    });

  program.command("verify")
    .description("Compare a Zarr store with its NetCDF source(s): every array, dimension, attribute and value; exits 1 on the first difference")
    .argument("<input...>", "the NetCDF file(s) the store was converted from, then the store")
    .addOption(concatDimOption("as given to convert"))
    .addOption(remoteReadOption())
    .addOption(noSignOption())
    .addOption(requestPayerOption())
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

  program.command("bench")
    .description("Time the queries people run (point time series, map, box) on the NetCDF files and on the Zarr store; check both return the same values")
    .requiredOption("--netcdf <input...>", "the NetCDF files (paths, s3:// URLs or globs)")
    .option("--zarr <store>", "the Zarr store converted from them")
    .addOption(new Option("--query <kind>", "which query").choices([...QUERY_KINDS, "all"]).default("point"))
    .option("--variable <name>", "the variable (default: the first with lat/lon dimensions)")
    .option("--lat <value>", "point: latitude (nearest grid point; default the grid's middle)", Number)
    .option("--lon <value>", "point: longitude", Number)
    .option("--time <value>", "map: time step, as a date or in the coordinate's units (nearest; default the first)")
    .option("--repeats <n>", "cold and warm runs per query and source", intArg("--repeats"), 5)
    .addOption(new Option("--profile <name>", "s3: add simulated S3 Standard latency through a local proxy (s3:// inputs on a custom endpoint)").choices(["local", "s3"]).default("local"))
    .option("--download", "s3:// NetCDF: also time downloading whole files instead of ranged reads")
    .addOption(noSignOption())
    .addOption(requestPayerOption())
    .option("--sweep <chunks...>", "instead: convert with each chunking (e.g. 24x361x576 1080x90x90) and time the queries on each store")
    .option("--sweep-out <where>", "directory or s3:// prefix for the sweep's stores")
    .option("--sweep-files <n>", "sweep on the first n files only", intArg("--sweep-files"))
    .option("--json", "print the report as JSON")
    .action(async (o: BenchFlags) => {
      const kinds = o.query === "all" ? QUERY_KINDS : [o.query as QuerySpec["kind"]];
      const queries: QuerySpec[] = kinds.map((kind) => ({
        kind, ...(o.variable && { variable: o.variable }), ...(o.lat !== undefined && { lat: o.lat }), ...(o.lon !== undefined && { lon: o.lon }),
        ...(o.time !== undefined && { time: o.time }),
      }));
      if (!o.sweep && !o.zarr) throw new ConvertError("Usage", "bench needs --zarr <store> (or --sweep with --sweep-out)");
      if (o.sweep && !o.sweepOut) throw new ConvertError("Usage", "--sweep needs --sweep-out <directory or s3:// prefix>");
      let proxy: Awaited<ReturnType<typeof startProxyProcess>> | undefined;
      if (o.profile === "s3") {
        if (![...o.netcdf, o.zarr ?? o.sweepOut!].every(isS3Url)) throw new ConvertError("Usage", "--profile s3 needs s3:// inputs and store (put them on the local endpoint first)");
        const settings = s3Settings();
        if (!settings.endpoint) throw new ConvertError("Usage", "--profile s3 simulates S3 in front of a local endpoint; against AWS itself use --profile local");
        proxy = await startProxyProcess(settings.endpoint, "s3");
        useS3Settings({ ...settings, endpoint: proxy.endpoint });
        const inputs = inputS3Settings(); // the NetCDF files: through the proxy too, when on the same endpoint
        if (inputs.endpoint === settings.endpoint) useInputS3Settings({ ...inputs, endpoint: proxy.endpoint });
      }
      try {
        if (o.sweep) {
          const chunkings = o.sweep.map((c) => {
            if (!/^\d+(x\d+)*$/.test(c)) throw new ConvertError("Usage", `--sweep: "${c}" is not a chunk shape like 1080x90x90`);
            return c.split("x").map(Number);
          });
          const points = await chunkSweep({
            netcdf: o.netcdf, out: o.sweepOut!, chunkings, queries, repeats: o.repeats, profile: PROFILES[o.profile],
            ...(o.variable && { variable: o.variable }), ...(o.sweepFiles && { files: o.sweepFiles }),
            convert: { executor: "auto" },
          });
          output(o.json, points, () => formatSweep(points));
          return;
        }
        const report = await runBench({ netcdf: o.netcdf, zarr: o.zarr!, queries, repeats: o.repeats, profile: PROFILES[o.profile], download: !!o.download });
        const coldStartMs = firstRequestAt();
        output(o.json, { ...report, coldStartMs }, () => `${formatBench(report)}\ncold start: ${coldStartMs?.toFixed(0)} ms from process start to the first byte requested`);
      } finally {
        await proxy?.stop();
      }
    });

  program.command("s3-local")
    .description("Run the local S3-compatible endpoint (s3rver) on 127.0.0.1 until interrupted; other commands find it while it runs")
    .option("--dir <path>", "where objects are stored, one folder per bucket", "s3-data")
    .option("--port <n>", "port (0: a free one)", intArg("--port"), 4568)
    .option("--bucket <name...>", "buckets to create", ["convert-to-zarr"])
    .action(async (o: { dir: string; port: number; bucket: string[] }) => {
      const s3 = await startLocalS3({ dataDir: o.dir, port: o.port, buckets: o.bucket, stateFile: localStateFile(), keepAlive: true });
      process.stdout.write(`local S3 endpoint ${s3.endpoint} (data in ${s3.dataDir}, buckets: ${o.bucket.join(", ")}); Ctrl-C stops it\n`);
      await new Promise<void>((done) => {
        const stop = () => void s3.stop().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
  program.command("ecs-local")
    .description("Run a local endpoint speaking the ECS API until interrupted: `convert --executor ecs` then runs its workers as local processes against the S3 in use")
    .option("--port <n>", "port (0: a free one)", intArg("--port"), 0)
    .action(async (o: { port: number }) => {
      const s3 = s3Settings(); // the workers' S3: the local endpoint or AWS, decided here once
      const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^AWS_|^CONVERT_TO_ZARR_S3/.test(k)) as [string, string][]);
      const environment = { ...passed, ...(s3.endpoint && { AWS_ENDPOINT_URL_S3: s3.endpoint }), ...(s3.localCredentials && { CONVERT_TO_ZARR_S3: "local" }), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
      const ecs = await startLocalEcs({ port: o.port, taskDefinitions: [{ family: LOCAL_TASK_DEFINITION, containerName: "worker", command: [process.execPath, fileURLToPath(new URL("../worker/ecs-main.js", import.meta.url))], environment }] });
      const forget = writeLocalEcsState({ endpoint: ecs.endpoint, cluster: ecs.cluster, taskDefinition: LOCAL_TASK_DEFINITION, pid: process.pid });
      process.stdout.write(`local ECS endpoint ${ecs.endpoint} (cluster ${ecs.cluster}, task definition ${LOCAL_TASK_DEFINITION}; workers use S3 at ${s3.source}); Ctrl-C stops it\n`);
      await new Promise<void>((done) => {
        const stop = () => void ecs.close().then(() => { forget(); done(); });
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
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
