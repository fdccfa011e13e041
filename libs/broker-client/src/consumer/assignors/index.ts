import type { Assignor } from './assignor';
import { CooperativeStickyAssignor } from './cooperative-sticky';
import { RangeAssignor } from './range';
import { RoundRobinAssignor } from './round-robin';
import { StickyAssignor } from './sticky';

export * from './assignor';
export { CooperativeStickyAssignor, RangeAssignor, RoundRobinAssignor, StickyAssignor };

/** The built-in assignors by name, as a consumer lists them in JoinGroup. */
export const ASSIGNORS: { [name: string]: () => Assignor } = {
  range: () => new RangeAssignor(),
  roundrobin: () => new RoundRobinAssignor(),
  sticky: () => new StickyAssignor(),
  'cooperative-sticky': () => new CooperativeStickyAssignor(),
};
