// Vite builds the browser app into web/dist, which the server serves (src/server/web.ts).
// JSX compiles to Preact through Vite's built-in Oxc transform: no framework plugin needed.
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Plot (with its d3 modules) is loaded lazily by the chart pages only.
    chunkSizeWarningLimit: 700,
  },
  // `npx vite web` during development: the API is the running server (`npm start`).
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/auth': 'http://127.0.0.1:8080',
      '/fhir': 'http://127.0.0.1:8080',
      '/health': 'http://127.0.0.1:8080',
    },
  },
});
