// Housekeeping consumer group: room-turnover tasks in schema housekeeping (Step 5).
export {};
