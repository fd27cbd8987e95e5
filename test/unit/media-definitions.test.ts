// The media archive's contracts: object keys, extensions, and the queued job's shape.

import { describe, expect, it } from 'vitest';
import {
  archiveAttribute,
  mediaExtension,
  mediaObjectKey,
  parseMediaJob,
} from '../../lib/definitions/media.js';

describe('mediaObjectKey', () => {
  it('files a recording under its account and call, with the extension of its content type', () => {
    expect(mediaObjectKey('acme', 780836699, 'recording', 'audio/mpeg')).toBe(
      'acme/calls/780836699/recording.mp3',
    );
    expect(mediaObjectKey('acme', '9007199254740993', 'voicemail', 'audio/wav; charset=binary')).toBe(
      'acme/calls/9007199254740993/voicemail.wav',
    );
  });

  it('keeps an account name that holds slashes or dots inside its own prefix', () => {
    expect(mediaObjectKey('../globex', 1, 'recording', 'audio/mpeg')).toBe(
      '..%2Fglobex/calls/1/recording.mp3',
    );
    expect(mediaObjectKey('acme/calls/2', 1, 'recording', 'audio/mpeg')).toBe(
      'acme%2Fcalls%2F2/calls/1/recording.mp3',
    );
  });

  it('refuses a call id that is not digits, and an empty account', () => {
    expect(() => mediaObjectKey('acme', '1/../2', 'recording', 'audio/mpeg')).toThrow('a call id is digits');
    expect(() => mediaObjectKey('', 1, 'recording', 'audio/mpeg')).toThrow('an account name is not empty');
  });
});

describe('mediaExtension', () => {
  it.each([
    ['audio/mpeg', 'mp3'],
    ['AUDIO/MPEG', 'mp3'],
    ['audio/x-wav', 'wav'],
    ['audio/ogg', 'ogg'],
    ['application/octet-stream', 'bin'],
    ['constructor', 'bin'],
    ['', 'bin'],
  ])('names %s files .%s', (type, extension) => {
    expect(mediaExtension(type)).toBe(extension);
  });
});

describe('archiveAttribute', () => {
  it('names the call attribute of each kind', () => {
    expect([archiveAttribute('recording'), archiveAttribute('voicemail')]).toEqual([
      'recording_archive',
      'voicemail_archive',
    ]);
  });
});

describe('parseMediaJob', () => {
  const job = { account: 'acme', callId: '780836699', kind: 'recording', url: 'https://example.test/a.mp3' };

  it('reads a job as persist writes it', () => {
    expect(parseMediaJob(JSON.stringify(job))).toEqual(job);
  });

  it.each([
    ['not JSON', 'nope', 'media job is not JSON'],
    ['no account', JSON.stringify({ ...job, account: '' }), 'media job has no account'],
    ['a call id that is not digits', JSON.stringify({ ...job, callId: '12a' }), 'media job has no call id'],
    [
      'another kind',
      JSON.stringify({ ...job, kind: 'transcript' }),
      'media job kind is neither recording nor voicemail',
    ],
    ['no link', JSON.stringify({ ...job, url: 'not a url' }), 'media job has no link'],
  ])('refuses %s, naming what is wrong without quoting the link', (_case, body, message) => {
    expect(() => parseMediaJob(body)).toThrow(message);
    try {
      parseMediaJob(body);
    } catch (error) {
      expect(String(error)).not.toContain('example.test');
    }
  });
});
