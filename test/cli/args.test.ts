// The command line's contract before any table is read: help, and exit 2 with a usage message for bad arguments.

import { describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { recordingIo } from './io.js';

describe('run: help', () => {
  it.each([['--help'], ['-h'], ['help']])(
    'prints the global help on stdout for %s and exits 0',
    async (flag) => {
      const io = recordingIo();

      expect(await run([flag], io)).toBe(0);

      expect(io.out()).toMatch(/^Usage: aircall-webhook-stack <command>/);
      for (const command of ['calls', 'history', 'users', 'numbers', 'send'])
        expect(io.out()).toContain(`  ${command} `);
      expect(io.err()).toBe('');
    },
  );

  it.each([
    ['calls', '--missed'],
    ['history', '<call id>'],
    ['users', 'availability_status'],
    ['numbers', 'digits'],
    ['send', '--concurrency'],
  ])('prints the help of %s for --help, without opening a target', async (command, mentions) => {
    const io = recordingIo();

    expect(await run([command, '--user', '1', '--help'], io)).toBe(0);

    expect(io.out()).toContain(`Usage: aircall-webhook-stack ${command}`);
    expect(io.out()).toContain(mentions);
    expect(io.resolutions()).toBe(0);
  });

  it('prints the global help on stderr and exits 2 when no command is given', async () => {
    const io = recordingIo();

    expect(await run([], io)).toBe(2);

    expect(io.err()).toContain('Usage: aircall-webhook-stack <command>');
    expect(io.out()).toBe('');
  });
});

describe('run: bad arguments', () => {
  it.each([
    ['an unknown command', ['calllz'], 'unknown command "calllz"'],
    ['an unknown option', ['calls', '--bogus'], "Unknown option '--bogus'"],
    ['an option without its value', ['calls', '--user'], "Option '--user <value>' argument missing"],
    ['a call id that is not a number', ['calls', 'abc'], 'call id must be a number'],
    ['two call ids', ['calls', '1', '2'], 'at most one call id'],
    [
      'a call id with listing flags',
      ['calls', '1', '--user', '2', '--missed'],
      'cannot be combined with --user, --missed',
    ],
    ['both --user and --number', ['calls', '--user', '1', '--number', '2'], 'not both'],
    ['a user id that is not a number', ['calls', '--user', 'bob'], '--user must be a number'],
    ['a time that is not one', ['calls', '--from', 'yesterday'], '"yesterday" is not a time'],
    ['a time in milliseconds', ['calls', '--from', '1646389735000'], 'looks like milliseconds'],
    ['--from after --to', ['calls', '--from', '2022-03-05', '--to', '2022-03-04'], '--from is after --to'],
    [
      'a range past ten years',
      ['calls', '--from', '2000-01-01', '--to', '2022-01-01'],
      'more than 3660 days',
    ],
    ['a limit that is not a count', ['calls', '--limit', 'ten'], '--limit must be a whole number'],
    ['a malformed --table', ['calls', '--table', 'calls'], '--table takes <table>=<name>'],
    ['a --table for no such table', ['users', '--table', 'agents=x'], '--table takes <table>=<name>'],
    ['history without an id', ['history'], 'exactly one call id'],
    ['history with two ids', ['history', '1', '2'], 'exactly one call id'],
    ['users with an argument', ['users', 'all'], 'users takes no arguments'],
    ['numbers with an argument', ['numbers', '456'], 'numbers takes no arguments'],
    ['send without files', ['send'], 'at least one file or directory'],
    [
      'send with no concurrency',
      ['send', 'x.json', '--concurrency', '0'],
      '--concurrency must be a whole number of at least 1',
    ],
    ['send with a bad --repeat', ['send', 'x.json', '--repeat', 'twice'], '--repeat must be a whole number'],
    ['send with a bad --url', ['send', 'x.json', '--url', 'not a url'], '--url is not a URL'],
    [
      'send of a file that is not there',
      ['send', 'no-such-file.json', '--url', 'http://127.0.0.1:1/'],
      'cannot read no-such-file.json',
    ],
  ])('exits 2 with a usage message for %s, reading nothing', async (_case, argv, message) => {
    const io = recordingIo();

    expect(await run(argv, io)).toBe(2);

    expect(io.err()).toContain(message);
    expect(io.err()).toContain('Usage: aircall-webhook-stack');
    expect(io.out()).toBe('');
    expect(io.resolutions()).toBe(0);
  });
});
