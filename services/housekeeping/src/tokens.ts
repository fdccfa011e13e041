export const HOUSEKEEPING_CONFIG = 'HOUSEKEEPING_CONFIG';
export const PRISMA = 'PRISMA';
export const LOGGER = 'LOGGER';
export const DEAD_LETTERS = 'DEAD_LETTERS';
