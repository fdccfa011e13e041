export * from './crc32c';
export * from './murmur2';
export * from './record-batch';
export * from './errors';
export * from './offset-metadata';
export * from './labels';
export * from './admin-token';
export * from './code-unit-order';
