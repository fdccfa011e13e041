export * from './crc32c';
export * from './murmur2';
export * from './record-batch';
export * from './errors';
export * from './offset-metadata';
export * from './labels';
export * from './supervisor-api';
export * from './admin-token';
