// tslab compiles cells to CommonJS, and require() cannot load ESM-only packages (zarrita, h5wasm) or
// our ESM build; this real CJS file's import() goes through Node's ESM loader (FIELD-NOTES §6.3).
const { pathToFileURL } = require("url");
const path = require("path");
module.exports = (specifier) => import(specifier.startsWith(".") ? pathToFileURL(path.resolve(specifier)).href : specifier);
