// Reads the system's socket table (Linux /proc): the TCP sockets this process listens on, and their addresses.

import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ListeningSocket {
  readonly address: string;
  readonly port: number;
  readonly inode: string;
}

const LISTEN = '0A';

/** `0100007F` is 127.0.0.1: /proc prints each 32-bit word of an address in host (little-endian) byte order. */
const decodeIpv4 = (hex: string): string =>
  [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.');

const decodeIpv6 = (hex: string): string => {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word += 1) {
    const chunk = hex.slice(word * 8, word * 8 + 8);
    bytes.push(...[6, 4, 2, 0].map((i) => Number.parseInt(chunk.slice(i, i + 2), 16)));
  }
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  );
  return groups.join(':');
};

const parseTable = (text: string, decode: (hex: string) => string): ListeningSocket[] =>
  text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === LISTEN)
    .map((fields) => {
      const [address = '', port = '0'] = (fields[1] ?? '').split(':');
      return { address: decode(address), port: Number.parseInt(port, 16), inode: fields[9] ?? '' };
    });

const ownSocketInodes = async (): Promise<Set<string>> => {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  return inodes;
};

/** Every TCP socket this process is listening on, IPv4 and IPv6, as the kernel reports it. */
export const listeningSockets = async (): Promise<ListeningSocket[]> => {
  const [v4, v6, own] = await Promise.all([
    readFile('/proc/net/tcp', 'utf8'),
    readFile('/proc/net/tcp6', 'utf8').catch(() => ''),
    ownSocketInodes(),
  ]);
  return [...parseTable(v4, decodeIpv4), ...parseTable(v6, decodeIpv6)].filter((socket) =>
    own.has(socket.inode),
  );
};
