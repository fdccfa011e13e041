// Billing consumer group: invoices in schema billing (Step 5).
export {};
