/** Where the notebook works: AWS from the deployed stack's config, or the local default; and clean-up. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cleanUp, notebookEnvironment, readStackConfig } from "../lib/notebook/session.js";
import { S3Store } from "../lib/store/s3.js";
import { useS3Settings } from "../lib/store/s3-config.js";
import { tempDir } from "./helpers.js";

describe("notebook environment", () => {
  const tmp = tempDir("nbenv");
  after(() => {
    useS3Settings(undefined);
    tmp.cleanup();
  });
  const config = join(tmp.dir, "stack.json");
  writeFileSync(config, JSON.stringify({ bucket: "my-stack-bucket", region: "eu-west-1", cluster: "c2z-pool", taskDefinition: "c2z-worker:3" }));

  test("AWS: credentials plus the stack's config give the bucket, region and worker pool, without any request", async () => {
    const env = { HOME: tmp.dir, AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", CONVERT_TO_ZARR_STACK_CONFIG: config };
    const e = await notebookEnvironment({ dataDir: join(tmp.dir, "unused"), env });
    assert.equal(e.mode, "aws");
    assert.equal(e.base, "s3://my-stack-bucket/convert-to-zarr-notebook");
    assert.equal(e.describe, "AWS: s3://my-stack-bucket/convert-to-zarr-notebook (region eu-west-1); worker pool: ECS cluster c2z-pool, task definition c2z-worker:3");
    assert.equal(e.local, undefined);
    const env2 = { ...env, CONVERT_TO_ZARR_BUCKET: "override-bucket", AWS_REGION: "us-west-2" };
    assert.equal((await notebookEnvironment({ dataDir: tmp.dir, env: env2 })).describe.split(";")[0], "AWS: s3://override-bucket/convert-to-zarr-notebook (region us-west-2)");
  });

  test("a broken stack config is a one-line error naming the file", () => {
    const bad = join(tmp.dir, "bad.json");
    writeFileSync(bad, "{ not json");
    assert.throws(() => readStackConfig({ CONVERT_TO_ZARR_STACK_CONFIG: bad }), (e: Error & { path?: string }) => e.path === bad && /^not valid JSON/.test(e.message));
    writeFileSync(bad, "{}");
    assert.throws(() => readStackConfig({ CONVERT_TO_ZARR_STACK_CONFIG: bad }), /stack config has no bucket/);
    assert.equal(readStackConfig({ HOME: join(tmp.dir, "nowhere") }), undefined);
  });

  test("the local default (forced here despite the config): an endpoint on loopback, and clean-up deletes what the notebook wrote", async () => {
    const env = { HOME: tmp.dir, CONVERT_TO_ZARR_S3: "local", CONVERT_TO_ZARR_STACK_CONFIG: config, AWS_ACCESS_KEY_ID: "AKIAEXAMPLE" };
    const e = await notebookEnvironment({ dataDir: join(tmp.dir, "s3"), bucket: "nb-session-test", env });
    assert.equal(e.mode, "local");
    assert.match(e.describe, /^local default: S3-compatible endpoint http:\/\/127\.0\.0\.1:\d+ \(objects under .*s3\), worker threads, no cloud account$/);
    const store = new S3Store(`${e.base}/x`);
    await store.set("/a", new Uint8Array([1]));
    await store.set("/b/c", new Uint8Array([2]));
    assert.equal(await cleanUp(e), "deleted 2 objects under s3://nb-session-test/; stopped the local endpoint");
  });
});
