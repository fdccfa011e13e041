// NestJS transport strategy and ClientProxy on top of @hospital/broker-client (Step 4).
export {};
