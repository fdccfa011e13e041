import type { WatchMembershipResponse } from '@hospital/proto';
import type { MembershipNotice } from '../shard/coordinator-result';

export type MembershipListener = (event: WatchMembershipResponse) => void;

/**
 * Who watches which membership (the WatchMembership streams), and delivery
 * of the notices handlers return. Not group state: nothing here is stored
 * or replayed, and a listener that throws is the transport's bug, not ours.
 */
export class MembershipNotices {
  private readonly watchers = new Map<string, Map<string, MembershipListener>>();

  /** Returns the function that ends the watch. */
  watch(groupId: string, memberId: string, listener: MembershipListener): () => void {
    let members = this.watchers.get(groupId);
    if (!members) this.watchers.set(groupId, (members = new Map()));
    members.set(memberId, listener);
    return () => {
      if (this.watchers.get(groupId)?.get(memberId) === listener)
        this.watchers.get(groupId)?.delete(memberId);
    };
  }

  deliver(notice: MembershipNotice): void {
    const members = this.watchers.get(notice.groupId);
    switch (notice.kind) {
      case 'group':
        for (const listener of [...(members?.values() ?? [])]) listener(notice.event);
        return;
      case 'member':
        members?.get(notice.memberId)?.(notice.event);
        if (notice.final) members?.delete(notice.memberId);
        return;
      case 'forget-group':
        this.watchers.delete(notice.groupId);
        return;
    }
  }
}
