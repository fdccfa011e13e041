// Producer, Consumer (group member) and Admin client for the broker (Step 4; DESIGN.md §3.3).
export {};
