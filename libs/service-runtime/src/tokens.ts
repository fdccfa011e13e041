/** What a consumer service's handlers and controllers can inject. */
export const SERVICE_CONFIG = 'SERVICE_CONFIG';
export const SERVICE_LOGGER = 'SERVICE_LOGGER';
export const DATABASE = 'DATABASE';
export const DEAD_LETTERS = 'DEAD_LETTERS';
