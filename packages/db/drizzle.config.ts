import { defineConfig } from 'drizzle-kit';

// Paths are relative to the repository root: `pnpm db:generate` runs there.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/db/src/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
