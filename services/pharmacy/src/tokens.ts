export const PHARMACY_CONFIG = 'PHARMACY_CONFIG';
export const PRISMA = 'PRISMA';
export const LOGGER = 'LOGGER';
export const DEAD_LETTERS = 'DEAD_LETTERS';
