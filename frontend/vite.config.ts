import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Django (whitenoise) serves frontend/dist at /static/ and dist/index.html at `/`,
// so every asset URL in the built page must start with /static/.
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // React, markdown-it, DOMPurify and highlight.js: one ~180 kB (gzip) bundle is fine here.
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npm run dev` next to a running Django (make demo): the API and admin stay same-origin.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
    },
  },
});
