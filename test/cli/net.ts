// A port nothing listens on, for the tests of what the CLI says when its stack does not answer.

import { createServer } from 'node:net';

/** Binds a free loopback port and lets it go again: connections to it are then refused at once. */
export const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};
