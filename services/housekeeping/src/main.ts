import { runService } from '@hospital/nest-broker';
import { startHousekeeping } from './app';
import { loadHousekeepingConfig } from './config';

runService('housekeeping', () => startHousekeeping(loadHousekeepingConfig()));
