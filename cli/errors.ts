// The CLI's named errors: each carries the exit code it ends the process with; main prints the message.

export abstract class CliError extends Error {
  abstract readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Arguments the command cannot run with: main prints the message and the command's usage. */
export class UsageError extends CliError {
  readonly exitCode = 2;
}

/** The id asked for is not in the table. */
export class NotFoundError extends CliError {
  readonly exitCode = 1;
}

/** The command ran but its work failed, e.g. a webhook answered other than 2xx. */
export class CommandFailedError extends CliError {
  readonly exitCode = 1;
}

/** The target cannot be reached or described: no stack, missing outputs, no local emulator. */
export class TargetError extends CliError {
  readonly exitCode = 1;
}
