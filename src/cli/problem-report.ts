// The problems `validate` found, one entry per distinct problem: the same mistake seen on many
// hosts (a role task on every web server) is one entry naming them all.
import type { UserInputError } from '../errors.js';
import { listNames } from '../config/suggest.js';
import type { Redactor } from '../report/redact.js';
import { shownRef } from './shown-path.js';

export interface FoundProblem {
  message: string;
  where?: string;
  hint?: string;
  /** Hosts it concerns, in the order they were prepared; none for a problem of the files alone. */
  hosts: string[];
}

export class ProblemReport {
  private readonly found = new Map<string, FoundProblem>();

  constructor(private readonly redactor: Redactor) {}

  /** Messages quote values (an argument check, a template's error): secrets are masked here. */
  add(error: UserInputError, host?: string): void {
    // Messages about one host name it ("(host web1)"): said once, in the list of hosts, so that
    // the same mistake on many hosts is one entry.
    const message = host === undefined ? error.message : error.message.split(` (host ${host})`).join('');
    const problem = {
      message: this.redactor.redact(message),
      ...(error.where ? { where: shownRef(error.where) } : {}),
      ...(error.hint ? { hint: this.redactor.redact(error.hint) } : {}),
    };
    // The hint may differ per host (it lists that host's variable names): the first one stays.
    const key = JSON.stringify([problem.message, problem.where]);
    const entry = this.found.get(key) ?? { ...problem, hosts: [] };
    if (host !== undefined && !entry.hosts.includes(host)) entry.hosts.push(host);
    this.found.set(key, entry);
  }

  get problems(): FoundProblem[] {
    return [...this.found.values()];
  }

  /** "error: FILE:LINE: message (on web1, web2)\n  hint: ...", as the CLI prints one error. */
  static describe(problem: FoundProblem): string {
    const at = problem.where ? `${problem.where}: ` : '';
    const on = problem.hosts.length ? ` (on ${listNames(problem.hosts, 8)})` : '';
    return `error: ${at}${problem.message}${on}${problem.hint ? `\n  hint: ${problem.hint}` : ''}`;
  }
}
