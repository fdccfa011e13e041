// JSON contracts of the admin HTTP surfaces (not the gRPC wire contract, which is @hospital/proto).
export * from './dashboard-api';
export * from './supervisor-api';
export * from './history-api';
