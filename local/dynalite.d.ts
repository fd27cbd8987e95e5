// Types for dynalite, which ships none: only the factory and the options the local stack uses.

declare module 'dynalite' {
  import type { Server } from 'node:http';

  export interface DynaliteOptions {
    /** Directory of the LevelDB store; in memory when absent. */
    readonly path?: string;
    /** Milliseconds a table stays CREATING, DELETING or UPDATING. */
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    readonly maxItemSizeKb?: number;
    readonly verbose?: boolean;
    readonly debug?: boolean;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
