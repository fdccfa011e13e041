// Postgres helpers for the consumer services: migrations, schema and role bootstrap (Step 5).
export {};
