// The `hospital` CLI: demo, topics, groups, scale, kill, scenario (Step 6).
export {};
