import pino from 'pino';
import { startPharmacy } from './app';
import { loadPharmacyConfig } from './config';

async function main(): Promise<void> {
  const pharmacy = await startPharmacy(loadPharmacyConfig());
  const stop = () => void pharmacy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  pino({ name: 'pharmacy' }).fatal({ err: error }, 'pharmacy failed to start');
  process.exit(1);
});
