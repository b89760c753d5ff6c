// Fuzz target: the websocket frame path. An input is a sequence of frames
// ([u16 length][bytes]...). Each frame goes through loro-protocol's decode
// and then into a real Connection (join, updates, fragment reassembly,
// leave, presence) backed by a real SyncCore on memory storage.
// Crash: decode throws something other than its plain `Error`, an error
// escapes the connection's handlers (logged as "unexpected error handling
// message", an unhandled rejection), or the work does not finish.
import { EventEmitter } from 'node:events';
import type * as Proto from 'loro-protocol';
import type { FuzzTarget } from '../engine/target';
import { InvariantError, splitFrames } from '../engine/target';
import { LORO_PROTOCOL, instantWal, recordingLogger, serverModule, settle } from './common';

export const instrument = [LORO_PROTOCOL, serverModule('protocol/connection'), serverModule('protocol/roomId'), serverModule('protocol/send'), serverModule('rooms/syncCore'), serverModule('rooms/updateInfo'), serverModule('rooms/room'), serverModule('rooms/presence')];

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  sent = 0;
  send(): void {
    this.sent++;
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */
let m: {
  proto: typeof Proto;
  Connection: typeof import('../../../server/protocol/connection').Connection;
  SyncCore: typeof import('../../../server/rooms/syncCore').SyncCore;
  PresenceHub: typeof import('../../../server/rooms/presence').PresenceHub;
  Metrics: typeof import('../../../server/metrics').Metrics;
  resolveSettings: typeof import('../../../server/options').resolveSettings;
  openAuth: typeof import('../../../server/auth').openAuth;
  MemoryStorage: typeof import('../../support/memoryStorage').MemoryStorage;
};

export const target: FuzzTarget = {
  name: 'protocol',
  instrument,
  maxLen: 8192,
  dictionary: ['%LOR', '%EPH', '%YJS', '%ELO', 'room', 'doc@main', 'doc@b/x', '..', '\u0000', 'write', 'read', new Uint8Array([0x00]), new Uint8Array([0x01]), new Uint8Array([0x02]), new Uint8Array([0x03]), new Uint8Array([0x04]), new Uint8Array([0x05]), new Uint8Array([0x06]), new Uint8Array([0x07]), new Uint8Array([0x08]), new Uint8Array([0x09]), new Uint8Array([0x6c, 0x6f, 0x72, 0x6f])],
  setup() {
    m = {
      proto: require('loro-protocol'),
      Connection: require('../../../server/protocol/connection').Connection,
      SyncCore: require('../../../server/rooms/syncCore').SyncCore,
      PresenceHub: require('../../../server/rooms/presence').PresenceHub,
      Metrics: require('../../../server/metrics').Metrics,
      resolveSettings: require('../../../server/options').resolveSettings,
      openAuth: require('../../../server/auth').openAuth,
      MemoryStorage: require('../../support/memoryStorage').MemoryStorage,
    };
  },
  async exec(data) {
    const frames = splitFrames(data);
    for (const f of frames) {
      try {
        m.proto.decode(f);
      } catch (err) {
        // loro-protocol's decode rejects with plain Errors; anything else is a bug in it.
        if (!(err instanceof Error) || err.constructor !== Error) throw new InvariantError(`decode threw ${err instanceof Error ? err.name : typeof err}: ${String(err)}`);
      }
    }
    const errors: string[] = [];
    const log = recordingLogger(errors);
    const settings = m.resolveSettings({ limits: { fragmentTimeoutMs: 60_000, maxUpdateBytes: 1 << 20 } });
    const core = new m.SyncCore(new m.MemoryStorage(), instantWal() as never, settings, log, new m.Metrics());
    const ws = new FakeSocket();
    new m.Connection(ws as never, core, m.openAuth, settings.limits, log, new m.PresenceHub());
    for (const f of frames) {
      ws.emit('message', Buffer.from(f), true);
      await settle();
    }
    await settle();
    ws.emit('close');
    await core.close(1000);
    if (errors.length) throw new InvariantError(errors[0]);
  },
  isExpected: () => false,
};
