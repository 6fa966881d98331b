// Command-line entry: `ministream [options]`, `npm start -- [options]`.
import { ConfigError, helpText, loadConfig } from './config.js';
import { startMinistream } from './server.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ministream: ${err.message}\n\n${helpText()}`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const server = await startMinistream(parsed.config);
  const shutdown = (signal: string) => {
    server.app.log.info(`${signal} received, shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('ministream failed to start:', err);
  process.exit(1);
});
