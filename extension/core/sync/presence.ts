// Who else is in a notebook and which cell each is in: a Loro EphemeralStore
// (awareness) keyed by a per-session client key, relayed by the room client.
// Entries expire when a client stops refreshing them (closed window, lost
// connection), so a heartbeat re-publishes our own state.
import { EphemeralStore } from 'loro-crdt';
import { collaboratorColorIndex } from '../../../server/shared/collaboratorColor';

export interface PresenceState {
  name: string;
  /** The cell the person is in (id), if any. */
  cellId?: string;
  /** Stable per person: the palette index of the name (server/shared/collaboratorColor.ts). */
  color: number;
}

export interface Collaborator extends PresenceState {
  key: string;
}

export class Presence {
  readonly store: EphemeralStore;
  private state: PresenceState;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly selfKey: string, name: string, timeoutMs = 30_000) {
    this.store = new EphemeralStore(timeoutMs);
    this.state = { name, color: collaboratorColorIndex(name) };
    this.publish();
    this.timer = setInterval(() => this.publish(), Math.max(1000, Math.floor(timeoutMs / 3)));
    this.timer.unref?.();
  }

  setCell(cellId: string | undefined): void {
    if (this.state.cellId === cellId) return;
    this.state = { ...this.state, cellId };
    this.publish();
  }

  setName(name: string): void {
    if (this.state.name === name) return;
    this.state = { ...this.state, name };
    this.publish();
  }

  /** Everyone else, sorted by name. */
  others(): Collaborator[] {
    const all = this.store.getAllStates() as unknown as Record<string, PresenceState | undefined>;
    return Object.entries(all)
      .filter(([key, v]) => key !== this.selfKey && v && typeof v.name === 'string')
      .map(([key, v]) => ({ key, ...(v as PresenceState) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  onChange(cb: () => void): () => void {
    return this.store.subscribe(() => cb());
  }

  dispose(): void {
    clearInterval(this.timer);
    this.store.delete(this.selfKey);
    this.store.destroy();
  }

  private publish(): void {
    const value: PresenceState = { name: this.state.name, color: this.state.color };
    if (this.state.cellId) value.cellId = this.state.cellId;
    this.store.set(this.selfKey, value as unknown as Record<string, string | number>);
  }
}

