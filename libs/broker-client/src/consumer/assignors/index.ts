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

/** Assignors named (or given) in order of preference, as objects; an unknown name throws, listing the known ones. */
export function resolveAssignors(assignors: readonly (string | Assignor)[]): Assignor[] {
  return assignors.map((assignor) => {
    if (typeof assignor !== 'string') return assignor;
    const create = ASSIGNORS[assignor];
    if (!create)
      throw new Error(
        `unknown assignor "${assignor}"; use one of ${Object.keys(ASSIGNORS).join(', ')}`,
      );
    return create();
  });
}
