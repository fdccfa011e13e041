/**
 * The metadata the broker stores with offsets an operator set through
 * ResetOffsets. A consumer that keeps its own offsets with its rows normally
 * resumes from the later of the two; an operator's reset wins instead, so
 * "reset to earliest" really replays.
 */
export const OPERATOR_RESET_METADATA = 'reset-offsets';
