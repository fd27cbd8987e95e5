// DATA_DIR holds webhook tokens (queued bodies, the registry, the dev token): it is made the owner's alone at every
// start, the directory 0700 and everything the stack keeps in it 0600, whatever an earlier run or umask left.

import { chmod, lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_TOKEN_FILE } from './dev-token.js';
import { STACK_FILE } from './discovery.js';

export const DIRECTORY_MODE = 0o700;
export const FILE_MODE = 0o600;

/** What the stack keeps in DATA_DIR; nothing else there is touched, so a DATA_DIR of `.` or `~` is safe. */
export const DATA_DIR_ENTRIES = { dynamodb: 'dynamodb', sqs: 'sqs' } as const;
const OWN_FILES = [DEV_TOKEN_FILE, STACK_FILE];

/** The SQLite file fauxqs keeps its queues in; see `createPrivateFile`. */
export const SQS_DATABASE_FILE = 'fauxqs.db';

const codeOf = (error: unknown): unknown =>
  error instanceof Error && 'code' in error ? error.code : undefined;

/** Sets the modes of a tree: directories 0700, files 0600; symbolic links are left alone, not followed. */
const restrictTree = async (path: string): Promise<void> => {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    await chmod(path, DIRECTORY_MODE);
    for (const name of await readdir(path)) await restrictTree(join(path, name));
    return;
  }
  if ((info.mode & 0o777) !== FILE_MODE) await chmod(path, FILE_MODE);
};

/** Creates DATA_DIR if needed and makes it and what the stack keeps there readable by the owner only. */
export const prepareDataDir = async (dataDir: string): Promise<void> => {
  await mkdir(dataDir, { recursive: true, mode: DIRECTORY_MODE });
  // mkdir's mode is filtered by the umask, and an existing directory keeps its own: set it outright.
  await chmod(dataDir, DIRECTORY_MODE);
  const own = (name: string): boolean =>
    Object.values<string>(DATA_DIR_ENTRIES).includes(name) ||
    // The files themselves, and what a write of them cut short left beside them (`<file>.<id>.tmp`).
    OWN_FILES.some((file) => name === file || name.startsWith(`${file}.`));
  for (const name of (await readdir(dataDir)).filter(own)) await restrictTree(join(dataDir, name));
};

/** A directory of the stack's, 0700. */
export const createPrivateDirectory = async (path: string): Promise<void> => {
  await mkdir(path, { recursive: true, mode: DIRECTORY_MODE });
  await chmod(path, DIRECTORY_MODE);
};

/**
 * Creates the file empty and 0600 if it is missing. SQLite gives a database's -wal and -shm files the mode of the
 * database file, so a 0600 database keeps its journal 0600 too; an empty file is a valid empty database.
 */
export const createPrivateFile = async (path: string): Promise<void> => {
  const handle = await open(path, 'a', FILE_MODE);
  try {
    await handle.chmod(FILE_MODE);
  } finally {
    await handle.close();
  }
};
