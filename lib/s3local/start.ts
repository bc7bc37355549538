/** Starts the local S3 endpoint (lib/s3local/server.ts) as a child process and says where it listens. */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ConvertError } from "../errors.js";
import type { S3Settings } from "../store/s3-config.js";
import { resolveS3Settings } from "../store/s3-config.js";

export interface LocalS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Where the objects live on disk, one folder per bucket. */
  dataDir: string;
  /** Settings for S3Store / convert() that point at this endpoint. */
  settings: S3Settings;
  /** Environment variables that point child processes (the CLI, workers) at it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  dataDir: string;
  /** Buckets to create at start. */
  buckets?: string[];
  /** 0 (default): a free port. */
  port?: number;
  /** Write the endpoint's state file, so other processes find it (what `npm run s3:local` does). */
  stateFile?: string;
  /** Keep this process alive while the endpoint runs (a foreground server); default: don't. */
  keepAlive?: boolean;
}

const SERVER = fileURLToPath(new URL("./server.js", import.meta.url));
const PROXY = fileURLToPath(new URL("./proxy-main.js", import.meta.url));

export async function startLocalS3(opts: LocalS3Options): Promise<LocalS3> {
  const args = [SERVER, "--dir", opts.dataDir, "--port", String(opts.port ?? 0), ...(opts.buckets ?? []).flatMap((b) => ["--bucket", b])];
  if (opts.stateFile) args.push("--state-file", opts.stateFile);
  // Lets other S3 clients page with ContinuationToken, which s3rver encrypts with DES.
  const flags = process.allowedNodeEnvironmentFlags.has("--openssl-legacy-provider") ? ["--openssl-legacy-provider"] : [];
  const { child, first } = await startChild("local S3 endpoint", [...flags, ...args], !!opts.keepAlive);
  const { endpoint, dataDir } = JSON.parse(first) as { endpoint: string; dataDir: string };
  const env = { AWS_ENDPOINT_URL_S3: endpoint, CONVERT_TO_ZARR_S3: "local" };
  return {
    endpoint, dataDir, env,
    settings: resolveS3Settings({ endpoint, localCredentials: true }, {}),
    stop: () => stopChild(child),
  };
}

/** The latency proxy in a child process in front of `upstream` (see proxy-main.ts for why a process). */
export async function startProxyProcess(upstream: string, profile: "local" | "s3"): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const { child, first } = await startChild("latency proxy", [PROXY, "--upstream", upstream, "--profile", profile], false);
  return { endpoint: (JSON.parse(first) as { endpoint: string }).endpoint, stop: () => stopChild(child) };
}

/** Starts a Node child that prints one JSON line when ready; it exits when this process does. */
async function startChild(what: string, args: string[], keepAlive: boolean): Promise<{ child: ChildProcess; first: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const first = await new Promise<string>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", res);
    child.once("exit", (code) => rej(new ConvertError("Usage", `${what} exited (${code}): ${stderr.trim().split("\n").pop() ?? ""}`)));
  });
  if (!keepAlive) {
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    child.channel?.unref();
  }
  return { child, first };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.ref(); // unref'd while running; waiting for its exit must keep this process alive
    child.once("exit", () => res());
    child.kill("SIGTERM");
  });
}
