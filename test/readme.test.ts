/** Every ```js snippet in the README runs, from the repository root, as a user would paste it. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CORPUS_MISSING, ROOT } from "./helpers.js";

const snippets = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("README snippets", { skip: CORPUS_MISSING }, () => {
  test("there is a snippet per library feature", () => assert.ok(snippets.length >= 5, `${snippets.length} snippets`));
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1}: ${code.split("\n")[0]}`, () => {
      mkdirSync(join(ROOT, ".tmp"), { recursive: true });
      const file = join(ROOT, ".tmp", `readme-snippet-${i + 1}.mjs`);
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.notEqual(r.stdout.trim(), "", "prints something");
    });
  });
});
