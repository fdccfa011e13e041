import { runService } from '@hospital/nest-broker';
import { startPharmacy } from './app';
import { loadPharmacyConfig } from './config';

runService('pharmacy', () => startPharmacy(loadPharmacyConfig()));
