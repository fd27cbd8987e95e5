// The latest data of every generated call, per company: what `GET /v1/calls/:id` answers, with fresh media links.

import type { GeneratedEvent } from './envelope.js';
import type { JsonObject } from './json.js';
import { MEDIA_KINDS, type MediaFile, type MediaLinks } from './media.js';

interface Latest {
  readonly timestamp: number;
  readonly data: JsonObject;
}

export class CallRecords {
  private readonly calls = new Map<string, Latest>();

  constructor(private readonly links: MediaLinks) {}

  /** Keeps a call event's data unless a later event of the call is already kept. */
  record(event: GeneratedEvent): void {
    if (event.resource !== 'call') return;
    const key = `${event.account}#${String(event.data.id)}`;
    const kept = this.calls.get(key);
    // Events of one lifecycle that share a second come in lifecycle order, so the later one wins a tie.
    if (kept === undefined || event.timestamp >= kept.timestamp) {
      this.calls.set(key, { timestamp: event.timestamp, data: event.data });
    }
  }

  /** The call as the API shows it, its links signed at `signedAt` (UNIX seconds); undefined for an unknown id. */
  get(account: string, callId: string, signedAt: number): JsonObject | undefined {
    const kept = this.calls.get(`${account}#${callId}`);
    if (kept === undefined) return undefined;
    // `call_uuid` is only on webhooks.
    const { call_uuid: _webhooksOnly, ...call } = structuredClone(kept.data);
    for (const kind of MEDIA_KINDS) {
      if (typeof call[kind] === 'string') call[kind] = this.links.sign({ account, callId, kind }, signedAt);
    }
    return call;
  }

  /** True once a generated event of the call carried a link to the file. */
  hasMedia(file: MediaFile): boolean {
    return typeof this.calls.get(`${file.account}#${String(file.callId)}`)?.data[file.kind] === 'string';
  }
}
