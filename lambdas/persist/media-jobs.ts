// Which recordings and voicemails a stored call event hands to the archive: those its data links to and that the
// call item does not record as archived yet.

import { archiveAttribute, MEDIA_KINDS, type MediaJob } from '../../lib/definitions/media.js';
import type { StateResult, StateWrite } from './ports.js';

const isLink = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && URL.canParse(value);

/** Whether the write brings a call's own data (not an insight kept on the call), with at least one link. */
const carriesMedia = (write: StateWrite): boolean =>
  write.table === 'calls' &&
  write.guard.length === 1 &&
  MEDIA_KINDS.some((kind) => isLink(write.media?.[kind]));

/** The write with the archive attributes to probe for, when it carries a link; unchanged otherwise. */
export const probeArchives = (write: StateWrite): StateWrite =>
  carriesMedia(write) ? { ...write, probe: MEDIA_KINDS.map(archiveAttribute) } : write;

/**
 * The jobs a call write implies once applied, or once found stale: a stale write may be the retry of one whose jobs
 * were never sent, and the archive downloads a file once however many jobs name it. None for a write refused as
 * another account's.
 */
export const mediaJobsOf = (write: StateWrite, result: StateResult): MediaJob[] => {
  if (!carriesMedia(write) || result.outcome === 'foreign') return [];
  const present = new Set(result.present ?? []);
  return MEDIA_KINDS.flatMap((kind) => {
    const url = write.media?.[kind];
    if (!isLink(url) || present.has(archiveAttribute(kind))) return [];
    return [{ account: write.account, callId: String(write.id), kind, url }];
  });
};
