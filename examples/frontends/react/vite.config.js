import { defineConfig } from "vite";
import { resolve } from "node:path";

// No React plugin: Vite's built-in transform handles JSX (automatic runtime) in .jsx files.
// `base: "./"` makes the build work from any folder, e.g. the demo's --website-dir.
// Two pages share one bundle: the app (index.html) and the sign-in page at the SDK's default
// websiteBasePath (auth/index.html), where SessionAuth sends signed-out visitors.
export default defineConfig({
  base: "./",
  build: {
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        auth: resolve(import.meta.dirname, "auth/index.html"),
      },
    },
  },
});
