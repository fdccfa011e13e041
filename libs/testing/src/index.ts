// Helpers only tests use; what starts processes is @hospital/processes.
export { readPartition } from './read-partition';
export { groupCaughtUp } from './caught-up';
