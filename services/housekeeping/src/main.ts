import { runService } from '@hospital/service-runtime';
import { startHousekeeping } from './app';
import { loadHousekeepingConfig } from './config';

runService('housekeeping', () => startHousekeeping(loadHousekeepingConfig()));
