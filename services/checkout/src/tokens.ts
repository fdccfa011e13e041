export const CHECKOUT_CONFIG = 'CHECKOUT_CONFIG';
export const LOGGER = 'LOGGER';
