import pino from 'pino';
import { startHousekeeping } from './app';
import { loadHousekeepingConfig } from './config';

async function main(): Promise<void> {
  const housekeeping = await startHousekeeping(loadHousekeepingConfig());
  const stop = () => void housekeeping.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  pino({ name: 'housekeeping' }).fatal({ err: error }, 'housekeeping failed to start');
  process.exit(1);
});
