// The broker: partitioned logs, topics, group coordinator, offsets (Steps 2 and 3; DESIGN.md §3.1-3.2).
export {};
