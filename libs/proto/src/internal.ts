// Broker-internal messages: raw wire views and __consumer_offsets records.
export * from './generated/hospital/broker/internal/v1/raw_views';
export * from './generated/hospital/broker/internal/v1/coordinator_records';
