/**
 * The latency proxy as its own process, for callers that block their event loop while a request is
 * in flight (our synchronous range reader does): prints {"endpoint": …} once listening.
 *
 *   node dist/lib/s3local/proxy-main.js --upstream URL --profile local|s3
 */
import { parseArgs } from "node:util";
import { PROFILES, startProxy } from "./proxy.js";

const { values } = parseArgs({ options: { upstream: { type: "string" }, profile: { type: "string", default: "s3" } } });
const profile = PROFILES[values.profile as keyof typeof PROFILES];
if (!values.upstream || !profile) {
  process.stderr.write("proxy: --upstream URL and --profile local|s3 are required\n");
  process.exit(2);
}
const proxy = await startProxy({ upstream: values.upstream, profile });
process.stdout.write(JSON.stringify({ endpoint: proxy.endpoint }) + "\n");
const stop = () => void proxy.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
