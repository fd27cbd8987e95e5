// The recordings and voicemails a batch of generated events links to: the files a media test expects archived.

import { MEDIA_KINDS, type MediaKind } from '../../lib/definitions/media.js';
import type { GeneratedEvent } from '../../simulator/envelope.js';

export interface MediaFile {
  readonly callId: number;
  readonly kind: MediaKind;
}

/** Every file the call events link to, once each. */
export const filesOf = (events: readonly GeneratedEvent[]): MediaFile[] => {
  const seen = new Map<string, MediaFile>();
  for (const event of events) {
    if (event.resource !== 'call') continue;
    for (const kind of MEDIA_KINDS)
      if (typeof event.data[kind] === 'string')
        seen.set(`${event.data.id}/${kind}`, { callId: Number(event.data.id), kind });
  }
  return [...seen.values()];
};
