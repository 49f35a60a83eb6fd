// One small tree of named errors. Only the CLI turns them into exit codes.

/** Where in a user's file something was found. */
export interface SourceRef {
  file: string;
  line?: number;
  column?: number;
}

export function formatSourceRef(ref: SourceRef | undefined): string {
  if (!ref) return '';
  if (ref.line === undefined) return ref.file;
  return ref.column === undefined ? `${ref.file}:${ref.line}` : `${ref.file}:${ref.line}:${ref.column}`;
}

export class FoobarError extends Error {
  override name = 'FoobarError';
}

/** Bad user input: nothing on any host has been touched. Exit code 2. */
export class UserInputError extends FoobarError {
  override name = 'UserInputError';
  constructor(
    message: string,
    readonly where?: SourceRef,
    readonly hint?: string,
  ) {
    super(message);
  }

  /** The message with its location and hint, as the CLI prints it. */
  describe(): string {
    const at = this.where ? `${formatSourceRef(this.where)}: ` : '';
    return `${at}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** Malformed or invalid inventory / playbook YAML. */
export class ConfigError extends UserInputError {
  override name = 'ConfigError';
}

/** A template failed to render (undefined variable, syntax error, missing file). */
export class TemplateError extends UserInputError {
  override name = 'TemplateError';
}

/** A host could not be reached or authenticated: that host is `unreachable`. */
export class ConnectionError extends FoobarError {
  override name = 'ConnectionError';
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

/** The host's key is unknown or changed: never silently accepted. */
export class HostKeyError extends ConnectionError {
  override name = 'HostKeyError';
  constructor(
    host: string,
    message: string,
    readonly fingerprint: string,
    readonly kind: 'unknown' | 'changed',
  ) {
    super(host, message);
  }
}

/** A command on a host failed in a way the task cannot absorb. */
export class TaskFailedError extends FoobarError {
  override name = 'TaskFailedError';
}

/** The lab cannot be brought up or down on this machine. */
export class LabError extends FoobarError {
  override name = 'LabError';
  constructor(
    message: string,
    readonly hint?: string,
    /** The word the message is printed after: `lab`, or `vagrant` for the VMs. */
    readonly area: 'lab' | 'vagrant' = 'lab',
  ) {
    super(message);
  }
}
