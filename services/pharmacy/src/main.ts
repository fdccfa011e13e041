import { runService } from '@hospital/service-runtime';
import { startPharmacy } from './app';
import { loadPharmacyConfig } from './config';

runService('pharmacy', () => startPharmacy(loadPharmacyConfig()));
