// Which hosts and tasks read the host facts (`facts.*`), found statically before any host is
// contacted: the identifier `facts` in a task's name, arguments, `when`, `loop`, in the source of
// its template, or in a variable written as a template. It may say yes where no fact is read in
// the end (a comment, a string); it never says no where one is, so a play that reads no fact
// probes exactly as before, and one that does gets its facts in the same single probe.
import { readFileSync } from 'node:fs';
import type { PlayConfig, TaskConfig } from '../config/types.js';
import type { FactQuery } from '../facts/types.js';
import { parentDir } from '../modules/file-write-script.js';
import { locateSource } from '../modules/search-path.js';
import { renderValue } from '../template/render.js';

/** The name templates read the host facts by. */
export const FACTS_VAR = 'facts';

// `facts` as a whole identifier (not `myfacts`, not `facts_file`).
const FACTS_IDENTIFIER = /(^|[^\w$])facts(?![\w$])/;

export const mentionsFacts = (text: string): boolean => FACTS_IDENTIFIER.test(text);

/** Variables this run computes itself, which hold no playbook template. */
const SHARED_VARS = new Set(['hostvars', 'groups']);

function holdsFactsTemplate(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.includes('<%') && mentionsFacts(value);
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => holdsFactsTemplate(v, depth + 1));
}

export class FactsUsage {
  private readonly ownText = new WeakMap<TaskConfig, boolean>();
  private readonly fileText = new Map<string, boolean>();

  constructor(private readonly searchPathFor: (task: TaskConfig) => readonly string[]) {}

  /** A host needs the facts in a play when a task or handler reads them, or a variable does. */
  playNeedsFacts(play: PlayConfig, vars: Record<string, unknown>): boolean {
    return [...play.tasks, ...play.handlers].some((t) => this.taskReadsFacts(t, vars)) || this.varsReadFacts(vars);
  }

  /** A variable written as a template that reads the facts (a role default, a play var). */
  varsReadFacts(vars: Record<string, unknown>): boolean {
    return Object.entries(vars).some(([key, value]) => !SHARED_VARS.has(key) && holdsFactsTemplate(value, 0));
  }

  /** The task's own text, or the source of its template, reads the facts. */
  taskReadsFacts(task: TaskConfig, vars: Record<string, unknown>): boolean {
    let own = this.ownText.get(task);
    if (own === undefined) {
      // A name is rendered only when it holds a tag; arguments may hold expressions (changed_when).
      own = mentionsFacts(JSON.stringify([task.args, task.when, task.loop]) ?? '') || (task.name.includes('<%') && mentionsFacts(task.name));
      this.ownText.set(task, own);
    }
    return own || (task.module === 'template' && this.templateReadsFacts(task, vars));
  }

  private templateReadsFacts(task: TaskConfig, vars: Record<string, unknown>): boolean {
    const src = (task.args as Record<string, unknown> | null)?.['src'];
    if (typeof src !== 'string') return false;
    if (!src.includes('<%')) return this.sourceReadsFacts(src, task);
    // A source chosen per loop item: each item of a written list; anything else, assume it does.
    if (!Array.isArray(task.loop) && task.loop !== undefined) return true;
    const items = Array.isArray(task.loop) ? task.loop : [undefined];
    return items.some((item) => {
      try {
        const rendered = renderValue(src, item === undefined ? vars : { ...vars, item }, task.where, { secretVarNames: new Set() }).value;
        return typeof rendered !== 'string' || this.sourceReadsFacts(rendered, task);
      } catch {
        return true;
      }
    });
  }

  private sourceReadsFacts(src: string, task: TaskConfig): boolean {
    const { file } = locateSource(src, this.searchPathFor(task));
    // Not found: preparing the task says so, with the places it looked.
    if (file === undefined) return false;
    let reads = this.fileText.get(file);
    if (reads === undefined) {
      try {
        reads = mentionsFacts(readFileSync(file, 'utf8'));
      } catch {
        reads = false;
      }
      this.fileText.set(file, reads);
    }
    return reads;
  }
}

/**
 * The files a template or copy task that waits for the facts will write: asked for in the single
 * probe, so a converged host still costs one round trip. Hash and metadata only; the content of a
 * file that turns out to differ is fetched when the task runs.
 */
export function factsHintQueries(task: TaskConfig, vars: Record<string, unknown>): FactQuery[] {
  // lineinfile and blockinfile compute the new text from the current one: they always need it.
  const edits = task.module === 'lineinfile' || task.module === 'blockinfile';
  if (task.module !== 'template' && task.module !== 'copy' && !edits) return [];
  const dest = (task.args as Record<string, unknown> | null)?.[edits ? 'path' : 'dest'];
  if (typeof dest !== 'string' || task.loop !== undefined) return [];
  let path: unknown = dest;
  if (dest.includes('<%')) {
    try {
      path = renderValue(dest, vars, task.where, { secretVarNames: new Set() }).value;
    } catch {
      return [];
    }
  }
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\n') || path.includes('\0')) return [];
  return [edits ? { kind: 'file', path, fetchContent: true } : { kind: 'file', path }, { kind: 'file', path: parentDir(path) }];
}
