export { type ConfigOverrides, DEFAULT_READ_WAIT_MS, LedgerEnvironment, type LedgerConfig, loadConfig } from './config.js';
