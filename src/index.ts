// Library entry: start Ministream from code.
export { startMinistream, type RunningMinistream } from './server.js';
export { loadConfig, DEFAULTS, type Config } from './config.js';
