import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * `pnpm dev`: Vite's dev server with hot reload; API calls go to a running chargeonce server
 * (`pnpm start`, or CHARGEONCE_API_URL), so the browser sees one origin exactly as in production.
 */
const api = process.env.CHARGEONCE_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/trpc': api, '/session': api, '/demo-token': api },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
