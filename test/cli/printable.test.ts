// What the CLI prints holds nothing a terminal acts on, and no URL's secret: values from the tables and messages
// from elsewhere pass through one function.

import { describe, expect, it } from 'vitest';
import {
  cell,
  formatCall,
  formatJson,
  formatSendSummary,
  formatTable,
  formatUsers,
  printable,
  redactUrls,
} from '../../cli/format.js';
import { run } from '../../cli/run.js';
import { recordingIo } from './io.js';

const ESC = '\u001b';
const BEL = '\u0007';
// Anything a terminal would act on: C0 but for nothing, DEL, C1, and the bidirectional controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const ACTIONABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('printable', () => {
  it.each([
    ['a colour (CSI)', `${ESC}[31mred${ESC}[0m`, 'red'],
    ['a screen clear', `${ESC}[2J${ESC}[HAna`, 'Ana'],
    ['a window title (OSC to BEL)', `${ESC}]0;pwned${BEL}Ana`, 'Ana'],
    ['a hyperlink (OSC 8 to ST)', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
    ['a device control string', `${ESC}Pq#0;2;0;0;0${ESC}\\Ana`, 'Ana'],
    ['a two-byte escape (reset)', `${ESC}cAna`, 'Ana'],
    ['an 8-bit CSI', '\u009b31mred', 'red'],
    ['an 8-bit OSC', '\u009d0;pwned\u009cAna', 'Ana'],
    ['a lone ESC at the end', `Ana${ESC}`, 'Ana'],
    ['NUL, BEL, backspace and DEL', `A\u0000n\u0007a\u0008\u007f`, 'Ana'],
    ['a right-to-left override', 'Ana\u202Egnp.exe', 'Anagnp.exe'],
    ['line breaks and tabs, as spaces', 'Ana\r\nKoen\tTest\u2028x', 'Ana  Koen Test x'],
  ])('removes %s', (_case, text, shown) => {
    expect(printable(text)).toBe(shown);
    expect(printable(text)).not.toMatch(ACTIONABLE);
  });

  it('keeps ordinary text, accents and emoji as they are', () => {
    expect(printable('Zoë Ångström — 日本 📞 [ok] 100%')).toBe('Zoë Ångström — 日本 📞 [ok] 100%');
  });
});

describe('printed tables and fields', () => {
  const hostile = `${ESC}]0;owned${BEL}${ESC}[2JMallory\u009b8m${ESC}[1A\u202E`;

  it('prints a table with no control character, whatever the cells hold, and keeps the columns aligned', () => {
    const text = formatUsers([
      { id: 1, name: hostile, email: `m@example.com${ESC}[8m`, available: true },
      { id: 22, name: 'Ana', email: 'a@example.com', available: false },
    ]);

    expect(text.replaceAll('\n', '')).not.toMatch(ACTIONABLE);
    expect(text.split('\n')[1]).toMatch(/^ {1}1 {2}Mallory {2}m@example\.com /);
    expect(text.split('\n').map((line) => line.indexOf('@'))[1]).toBe(text.split('\n')[2]?.indexOf('@'));
  });

  it('prints headers and fields with no control character', () => {
    const table = formatTable(
      [{ header: `id${ESC}[5m`, value: (row: { id: string }) => row.id }],
      [{ id: hostile }],
    );
    const fields = formatCall({ id: 1, direction: hostile, tags: [{ name: `vip${ESC}[2J` }] });

    for (const text of [table, fields]) expect(text.replaceAll('\n', '')).not.toMatch(ACTIONABLE);
    expect(fields).toContain('vip');
  });

  it('escapes DEL, C1 and bidirectional controls in --json output, keeping the values', () => {
    const value = { name: `a\u009b2Jb\u007fc\u202Ed\u2028e${ESC}f` };
    const text = formatJson(value);

    expect(text.replaceAll('\n', '')).not.toMatch(ACTIONABLE);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('prints a send summary whose error message quotes a server with no control character', () => {
    const text = formatSendSummary({ statuses: { 200: 1 }, errors: { [`bad${ESC}[2J answer`]: 2 } });

    expect(text).toBe('200: 1\nerror: bad answer: 2\n');
  });

  it('shows a cell of an object as compact JSON, cleaned when printed', () => {
    expect(printable(cell({ note: `x${ESC}[2Jy` }))).toBe('{"note":"x\\u001b[2Jy"}');
  });
});

describe('redactUrls', () => {
  it('cuts user-info, query and fragment from every URL in a text, and leaves other URLs as written', () => {
    expect(
      redactUrls(
        'Request cannot be constructed from a URL that includes credentials: https://u:p4ss@h.example/x?sig=abc#f, see http://127.0.0.1:8000',
      ),
    ).toBe(
      'Request cannot be constructed from a URL that includes credentials: https://h.example/x, see http://127.0.0.1:8000',
    );
  });
});

describe('CLI error messages', () => {
  it('prints an error quoting a hostile value and a secret URL with neither the escapes nor the secret', async () => {
    const io = recordingIo({
      resolveTarget: () =>
        Promise.reject(
          new Error(`table ${ESC}]0;owned${BEL}gone at https://admin:s3cret@db.example/?token=t0k`),
        ),
    });

    const code = await run(['users'], io);

    expect(code).toBe(1);
    expect(io.err().replaceAll('\n', '')).not.toMatch(ACTIONABLE);
    expect(io.err()).toContain('table gone at https://db.example/');
    expect(io.err()).not.toMatch(/s3cret|t0k|admin/);
  });
});
