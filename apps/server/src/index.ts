export { type BuildServerOptions, buildServer } from './app';
export { type Config, ConfigError, DEFAULT_DATA_DIR, loadConfig } from './config';
export { type Running, type StartOptions, startChargeonce } from './runtime';
