export * from './client';
export * from './idempotency';
export { migrate, migrationsFolder, pendingMigrations } from './migrate';
export { preparedStatement } from './prepared';
export * from './schema';
export * from './states';
export { isDatabaseUnavailable } from './unavailable';
export * from './users';
