// Bundles the unmodified supertokens-website npm package into one offline script that
// exposes the global `supertokens` (spec section 9.1), for the demo page in ../www.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, "..", "www", "supertokens.js");

await build({
  entryPoints: [path.join(here, "node_modules/supertokens-website/lib/build/bundleEntry.js")],
  bundle: true,
  format: "iife",
  globalName: "supertokens",
  platform: "browser",
  target: "es2019",
  minify: true,
  outfile,
  logLevel: "warning",
});
console.log(`bundled supertokens-website into ${path.relative(process.cwd(), outfile)}`);
