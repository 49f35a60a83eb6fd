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

/** An object or list the template holds a view of. Its path (for error messages) is built
 *  only when needed: reading 1000 hosts' `hostvars` must not build 1000 strings. */
interface Handle {
  value: object;
  parent: Handle | undefined;
  key: string;
}

function pathOf(handle: Handle | undefined, key: string, isList: boolean): string {
  if (!handle) return key;
  const parentPath = pathOf(handle.parent, handle.key, handle.parent ? Array.isArray(handle.parent.value) : false);
  return childPath(parentPath, key, isList && INDEX.test(key));
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

  const resolve = (container: object, key: string, value: unknown, path: () => string): unknown => {
    const slot = templateSlot(container, key, value);
    if (!slot) return value;
    const rendered = renderSlot(slot, path());
    if (rendered.usedSecrets) state.usedSecrets = true;
    return rendered.value;
  };

  const answer = (value: unknown, parent: Handle | undefined, key: string): Answer => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value as Answer;
    if (typeof value === 'function') return undefined;
    handles.push({ value, parent, key });
    last = handles.length - 1;
    return Array.isArray(value) ? ARRAY : OBJECT;
  };

  const isOwn = (container: object, key: string): boolean =>
    Array.isArray(container) ? INDEX.test(key) && Number(key) < container.length : Object.prototype.hasOwnProperty.call(container, key);

  const guardNested = <T>(read: () => T): T => {
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
      return guardNested(() => answer(resolve(vars, name, vars[name], () => name), undefined, name));
    },
    read(h, key) {
      const handle = handles[h];
      if (!handle) return MISSING;
      const container = handle.value;
      const isList = Array.isArray(container);
      if (!isOwn(container, key)) {
        missing = pathOf(handle, key, isList);
        return MISSING;
      }
      // hostvars.HOST.NAME is the variable NAME of another host: a secret there is a secret.
      if (handle.parent?.key === 'hostvars' && !handle.parent.parent && secretVarNames.has(key)) state.usedSecrets = true;
      const value = (container as Record<string, unknown>)[key];
      return guardNested(() => answer(resolve(container, key, value, () => pathOf(handle, key, isList)), handle, key));
    },
    has(h, key) {
      const handle = handles[h];
      return handle !== undefined && isOwn(handle.value, key);
    },
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
