// The outer side of variable reads for one render: answers the realm's questions about the
// host's variables with primitives and numbered handles, reads values lazily (hostvars of
// thousands of hosts is never copied), records reads of secrets, and renders a value that was
// written as a template (a role default built from other variables) when it is read.
import { ARRAY, MISSING, OBJECT, type Answer, type VariableHost } from './realm.js';
import { templateSlot, type TemplateSlot } from '../config/template-origin.js';

export interface ReadState {
  usedSecrets: boolean;
  /** The error of a variable-made-of-a-template that failed while being read. */
  nestedError?: unknown;
}

/** Renders a slot's template with the same variables; set by render.ts (they call each other). */
export type SlotRenderer = (slot: TemplateSlot, name: string) => { value: unknown; usedSecrets: boolean };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const INDEX = /^(?:0|[1-9][0-9]*)$/;

const childPath = (path: string, key: string, inList: boolean): string =>
  inList ? `${path}[${key}]` : IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

interface Handle {
  value: object;
  path: string;
}

export function variableHost(
  vars: Record<string, unknown>,
  secretVarNames: ReadonlySet<string>,
  state: ReadState,
  renderSlot: SlotRenderer,
): VariableHost {
  const handles: Handle[] = [];
  let last = -1;
  let missing = '';

  const resolve = (container: object, key: string, value: unknown, path: string): unknown => {
    const slot = templateSlot(container, key, value);
    if (!slot) return value;
    const rendered = renderSlot(slot, path);
    if (rendered.usedSecrets) state.usedSecrets = true;
    return rendered.value;
  };

  const answer = (value: unknown, path: string): Answer => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value as Answer;
    if (typeof value === 'function') return undefined;
    handles.push({ value, path });
    last = handles.length - 1;
    return Array.isArray(value) ? ARRAY : OBJECT;
  };

  const own = (h: number, key: string): { found: boolean; value?: unknown; path: string; container?: object } => {
    const handle = handles[h];
    if (!handle) return { found: false, path: key };
    const list = Array.isArray(handle.value);
    const path = childPath(handle.path, key, list && INDEX.test(key));
    const found = list ? INDEX.test(key) && Number(key) < (handle.value as unknown[]).length : Object.prototype.hasOwnProperty.call(handle.value, key);
    return found ? { found, value: (handle.value as Record<string, unknown>)[key], path, container: handle.value } : { found, path };
  };

  const guardNested = <T>(read: () => T): T | symbol => {
    try {
      return read();
    } catch (error) {
      state.nestedError ??= error;
      throw error;
    }
  };

  return {
    readVar(name) {
      if (!Object.prototype.hasOwnProperty.call(vars, name)) {
        missing = name;
        return MISSING;
      }
      if (secretVarNames.has(name)) state.usedSecrets = true;
      return guardNested(() => answer(resolve(vars, name, vars[name], name), name)) as Answer;
    },
    hasVar: (name) => Object.prototype.hasOwnProperty.call(vars, name),
    read(h, key) {
      const found = own(h, key);
      if (!found.found) {
        missing = found.path;
        return MISSING;
      }
      return guardNested(() => answer(resolve(found.container!, key, found.value, found.path), found.path)) as Answer;
    },
    has: (h, key) => own(h, key).found,
    keys(h) {
      const handle = handles[h];
      return JSON.stringify(handle && !Array.isArray(handle.value) ? Object.keys(handle.value) : []);
    },
    length(h) {
      const handle = handles[h];
      return handle && Array.isArray(handle.value) ? handle.value.length : 0;
    },
    lastHandle: () => last,
    missing: () => missing,
  };
}
