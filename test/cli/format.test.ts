// Text output: aligned tables, key/value blocks, the JSON replacer, the progress bar, the send summary.

import { describe, expect, it } from 'vitest';
import {
  cell,
  formatCall,
  formatCallList,
  formatFields,
  formatHistory,
  formatJson,
  formatSendSummary,
  formatTable,
  progressBar,
} from '../../cli/format.js';

describe('formatTable', () => {
  const columns = [
    { header: 'id', value: (r: { id: number; name?: string }) => String(r.id), align: 'right' as const },
    { header: 'name', value: (r: { id: number; name?: string }) => cell(r.name) },
  ];

  it('pads every column to its widest cell, right-aligning numbers, with no trailing blanks', () => {
    const text = formatTable(columns, [
      { id: 7, name: 'Ana' },
      { id: 1234, name: 'Koen Test' },
    ]);

    expect(text).toBe(['  id  name', '   7  Ana', '1234  Koen Test', ''].join('\n'));
  });

  it('shows a missing value as a dash and keeps a multi-line value on its row', () => {
    const text = formatTable(columns, [{ id: 1 }, { id: 2, name: 'two\nlines' }]);

    expect(text.split('\n')).toEqual(['id  name', ' 1  -', ' 2  two lines', '']);
  });

  it('aligns names outside the basic plane by their characters, not their UTF-16 units', () => {
    const byName = [columns[1], columns[0]].filter((c) => c !== undefined);
    const text = formatTable(byName, [
      { id: 1, name: '𝓚oen' },
      { id: 2, name: 'Zoë' },
    ]);

    expect(text.split('\n').map((line) => [...line].length)).toEqual([8, 8, 8, 0]);
  });
});

describe('formatFields', () => {
  it('aligns the values after the longest label', () => {
    expect(
      formatFields([
        ['id', '1'],
        ['missed_call_reason', '-'],
      ]),
    ).toBe('id                  1\nmissed_call_reason  -\n');
  });
});

describe('cell', () => {
  it.each([
    [undefined, '-'],
    [null, '-'],
    ['', '-'],
    [false, 'false'],
    [0, '0'],
    [[{ id: 1 }], '[{"id":1}]'],
    [new Set(['a', 'b']), '["a","b"]'],
  ])('shows %j as %s', (value, expected) => {
    expect(cell(value)).toBe(expected);
  });
});

describe('call and history tables', () => {
  it('lists calls with ISO start times and a dash for what a call lacks', () => {
    const text = formatCallList([
      {
        id: 780836754,
        started_at: 1646389739,
        direction: 'inbound',
        status: 'done',
        duration: 31,
        number_id: 397375,
      },
    ]);

    const [header, row] = text.split('\n');
    expect(header?.trim().split(/\s+/)).toEqual([
      'id',
      'started_at',
      'direction',
      'status',
      'duration',
      'user_id',
      'number_id',
      'raw_digits',
      'missed_call_reason',
      'last_event',
    ]);
    expect(row?.trim().split(/\s+/)).toEqual([
      '780836754',
      '2022-03-04T10:28:59Z',
      'inbound',
      'done',
      '31',
      '-',
      '397375',
      '-',
      '-',
      '-',
    ]);
  });

  it('shows an event with its Aircall time and its receive time to the millisecond', () => {
    const text = formatHistory([
      { timestamp: 1646389737, event: 'call.created', received_at: 1646389738123, resource: 'call' },
    ]);

    expect(text.split('\n')[1]).toBe(
      '2022-03-04T10:28:57Z  call.created  2022-03-04T10:28:58.123Z  call      webhook',
    );
  });

  it('says which events were read from the Public API', () => {
    const text = formatHistory([
      {
        timestamp: 1646389786,
        event: 'call.fetched',
        received_at: 1646400000000,
        resource: 'call',
        source: 'api',
      },
    ]);
    expect(text.split('\n')[1]?.trimEnd().endsWith('api')).toBe(true);
  });
});

describe('formatCall: media', () => {
  const archive = {
    key: 'acme/calls/780836699/recording.mp3',
    bytes: 1_048_577,
    content_type: 'audio/mpeg',
    sha256: 'a'.repeat(64),
    archived_at: 1646389800,
  };
  const field = (text: string, label: string): string | undefined =>
    text
      .split('\n')
      .find((line) => line.startsWith(`${label} `))
      ?.slice(label.length)
      .trim();

  it('shows an archived file by its key, size and archive time', () => {
    const text = formatCall({
      id: 1,
      recording: 'https://media.example/r?sig=x',
      recording_archive: archive,
    });

    expect(field(text, 'recording')).toBe(
      'archived: acme/calls/780836699/recording.mp3, 1048577 bytes, 2022-03-04T10:30:00Z',
    );
  });

  it("says when only Aircall's link is there, and shows a dash for a file the call never had", () => {
    const text = formatCall({ id: 1, voicemail: 'https://media.example/v?sig=x' });

    expect(field(text, 'voicemail')).toBe('link only, not archived');
    expect(field(text, 'recording')).toBe('-');
  });

  it('shows an archive whose link Aircall no longer sends as archived, never printing a link', () => {
    const text = formatCall({ id: 1, voicemail_archive: { ...archive, key: 'acme/calls/1/voicemail.mp3' } });

    expect(field(text, 'voicemail')).toMatch(/^archived: acme\/calls\/1\/voicemail\.mp3, /);
    expect(text).not.toContain('sig=');
  });

  it('says an archive attribute it cannot read is unreadable, rather than calling it archived', () => {
    const text = formatCall({
      id: 1,
      recording: 'https://x',
      recording_archive: { key: 'k', sha256: 'nope' },
    });

    expect(field(text, 'recording')).toBe('archive record unreadable (see --json)');
  });
});

describe('formatJson', () => {
  it('writes one indented document and a newline, sets as arrays and bytes as base64', () => {
    const text = formatJson({ tags: new Set(['vip']), raw: new Uint8Array([1, 2, 3]) });

    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ tags: ['vip'], raw: 'AQID' });
  });

  it('writes an id beyond 2^53 that DynamoDB returned as a bigint with its exact digits', () => {
    expect(formatJson({ id: 9007199254740993n })).toBe('{\n  "id": 9007199254740993\n}\n');
  });
});

describe('progressBar', () => {
  it.each([
    [0, 10, '[----------]  0/10'],
    [5, 10, '[#####-----]  5/10'],
    [10, 10, '[##########] 10/10'],
    [0, 0, '[##########] 0/0'],
  ])('draws %i of %i as %s', (done, total, expected) => {
    expect(progressBar(done, total, 10)).toBe(expected);
  });
});

describe('formatSendSummary', () => {
  it('counts each status, lowest first, then each kind of failure', () => {
    expect(
      formatSendSummary({
        statuses: { '401': 1, '200': 9 },
        errors: { 'connection refused by http://h/p': 2 },
      }),
    ).toBe('200: 9\n401: 1\nerror: connection refused by http://h/p: 2\n');
  });
});
