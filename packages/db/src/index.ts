export * from './client';
export { migrate, migrationsFolder, pendingMigrations } from './migrate';
export * from './schema';
export * from './users';
