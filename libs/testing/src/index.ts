// Helpers only tests use; what starts processes is @hospital/processes.
export { readPartition } from './read-partition';
export { groupCaughtUp, isCaughtUp, type OffsetsView } from './caught-up';
export { ensureDebianTool } from './debian-tool';
