// The import page and the local sign-in, built into dist/ with relative paths (served at the
// root of the local page server here, of S3 behind CloudFront in the cloud). Nothing is loaded
// from a CDN: every script and style is in dist/.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline script or style: the page's Content Security Policy allows only its own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        signIn: resolve(import.meta.dirname, "sign-in.html"),
      },
    },
  },
});
