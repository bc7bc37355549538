/**
 * What the suite cross-checks with must be there: locally a missing piece skips the tests that need
 * it (with the reason), but under CI it fails here by name, so that no check is skipped in silence.
 */
import { test } from "node:test";
import { requireCorpus, requireModernPython, requirePython } from "./helpers.js";

test("the shared NetCDF corpus is beside the checkout", { skip: !process.env["CI"] && "only enforced under CI" }, () => requireCorpus());
test("Debian's Python readers (xarray 2023, zarr 2.13) are installed", { skip: !process.env["CI"] && "only enforced under CI" }, () => requirePython());
test("today's Python readers (xarray 2026, zarr-python 3) are in .venv", { skip: !process.env["CI"] && "only enforced under CI" }, () => requireModernPython());
