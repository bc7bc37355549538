// The notebook kernel: tslab, started from the repository root whatever folder the notebook is in,
// so cells import "./dist/lib/..." and paths are repo-root-relative (tslab pins TypeScript's rootDir
// to its working directory; FIELD-NOTES §6.2).
const path = require("path");
const root = process.env.CONVERT_TO_ZARR_ROOT || path.resolve(__dirname, "..");
process.chdir(root);
// Not a user's concern mid-notebook (the AWS SDK's notice about its releases after January 2027).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { startKernel } = require(path.join(root, "node_modules/tslab/dist/main.js"));
const i = process.argv.indexOf("--config-path");
startKernel({ configPath: process.argv[i + 1], enableFindLocal: false, jsKernel: false, globalVersion: "" });
