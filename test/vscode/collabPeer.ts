// A headless collaborator for the VS Code collaboration tests: its own Loro
// replica joined to the same room through the room client, with a plain
// array standing in for its editor (the same NotebookSync the extension uses).
import type { CellData } from '../../server/shared/notebookTypes';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { NotebookSync } from '../../extension/core/sync/notebookSync';
import { Presence } from '../../extension/core/sync/presence';
import { RoomClient } from '../../extension/core/sync/roomClient';

export class HeadlessPeer {
  readonly nb = new NotebookDoc();
  readonly sync: NotebookSync;
  client: RoomClient;
  readonly presence: Presence;
  editor: CellData[] = [];

  constructor(readonly url: string, readonly room: string, readonly name: string, readonly token?: string) {
    this.nb.setAuthor(name);
    this.nb.commit({ origin: 'sys' });
    this.sync = new NotebookSync(this.nb);
    this.presence = new Presence(`${name}-${Date.now()}`, name);
    this.client = this.connect(url, room, token);
  }

  /** Leaves the room (edits stay local until online()). */
  offline(): void {
    this.client.close();
  }

  online(): void {
    this.client = this.connect(this.url, this.room, this.token);
  }

  private connect(url: string, room: string, token: string | undefined): RoomClient {
    return new RoomClient({
      url,
      roomId: room,
      doc: this.nb.doc,
      auth: { user: this.name, ...(token ? { token } : {}) },
      presence: this.presence.store,
      initialBackoffMs: 100,
      maxBackoffMs: 500,
      onRemote: () => this.drain(),
    });
  }

  drain(): void {
    for (let e = this.sync.nextRemoteEdit(), n = 0; e && n < 100_000; e = this.sync.nextRemoteEdit(), n++) this.sync.commitRemoteEdit(e);
    this.editor = this.sync.viewCells.map((c) => ({ ...c, metadata: { ...c.metadata } }));
  }

  edit(f: (cells: CellData[]) => void): void {
    this.drain();
    const cells = this.editor.map((c) => ({ ...c, metadata: { ...c.metadata } }));
    f(cells);
    this.sync.applyLocal(cells);
    this.drain();
  }

  /** Types `text` at `offset` of cell `index` as one splice (a keystroke). */
  type(index: number, offset: number, text: string): void {
    this.drain();
    const c = this.editor[index];
    const source = c.source.slice(0, offset) + text + c.source.slice(offset);
    this.sync.applyLocalText(index, c.id, source, [{ start: offset, end: offset, insert: text }]);
    this.drain();
  }

  cells(): CellData[] {
    return this.nb.toData().cells;
  }

  close(): void {
    this.presence.dispose();
    this.client.close();
  }
}
