import { defineConfig } from "vite";

// Django (whitenoise) serves frontend/dist at /static/ and dist/index.html at `/`,
// so every asset URL in the built page must start with /static/.
export default defineConfig({
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
  server: {
    // `npm run dev` next to a running Django (make demo): the API and admin stay same-origin.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
    },
  },
});
