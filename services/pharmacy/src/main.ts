// Pharmacy consumer group: discharge medications in schema pharmacy (Step 5).
export {};
