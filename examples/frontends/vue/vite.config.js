import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// `base: "./"` makes the build work from any folder, e.g. the demo's --website-dir.
export default defineConfig({
  base: "./",
  plugins: [vue()],
});
