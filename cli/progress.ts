// A progress line on stderr that redraws itself on a terminal, at most ten times a second, and stays silent elsewhere.

import type { CliIo } from './command.js';

// A fast local run would otherwise spend its time painting the line.
const REDRAW_MS = 100;

export interface ProgressLine {
  /** Draws the line, unless the last draw was too recent; `force` draws it anyway (the last state). */
  draw(line: string, force?: boolean): void;
  /** Ends the line, if one was drawn, so that what follows starts on its own. */
  end(): void;
}

export const progressLine = (io: Pick<CliIo, 'stderr' | 'stderrIsTty'>): ProgressLine => {
  let drawn = false;
  let last = Number.NEGATIVE_INFINITY;
  return {
    draw: (line, force = false) => {
      if (!io.stderrIsTty) return;
      const now = performance.now();
      if (!force && now - last < REDRAW_MS) return;
      last = now;
      // Erased to the end of the line: a shorter line would leave the end of the one before.
      io.stderr(`\r${line}\u001b[K`);
      drawn = true;
    },
    end: () => {
      if (drawn) io.stderr('\n');
      drawn = false;
    },
  };
};
