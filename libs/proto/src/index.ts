// Public surface of the generated protobuf code (see README.md for the options).
export * from './generated/hospital/broker/v1/errors';
export * from './generated/hospital/broker/v1/records';
export * from './generated/hospital/broker/v1/topics';
export * from './generated/hospital/broker/v1/data';
export * from './generated/hospital/broker/v1/consumer_protocol';
export * from './generated/hospital/broker/v1/groups';
export * from './generated/hospital/broker/v1/broker';
export * from './generated/hospital/events/v1/patient_checked_out';
export { Timestamp } from './generated/google/protobuf/timestamp';
export * as internal from './internal';
export * from './wire';
