// The sandbox templates and expressions run in: a separate V8 realm (node:vm context) that
// cannot generate code from strings, whose built-ins are frozen, and which holds no Node object.
//
// The rule that keeps it closed: no object of the controller's realm ever becomes reachable from
// template code. Variables are seen through proxies made inside the realm over inner dummy
// targets; the outer side answers only with primitives (and symbols standing for "object",
// "array", "missing"). The outer functions the realm calls are held in a closure of realm code
// that template code cannot reach, and are guarded so that no outer error is ever thrown into it.
import vm from 'node:vm';

/** Script name of compiled templates: stack frames with this name are template lines. */
export const TEMPLATE_FILENAME = 'foobar-template';
const REALM_FILENAME = 'foobar-realm';

export const MISSING = Symbol('missing');
export const OBJECT = Symbol('object');
export const ARRAY = Symbol('array');
export const FAILED = Symbol('failed');

/** What a variable read answers: a primitive, or one of the symbols above. */
export type Answer = string | number | boolean | bigint | null | undefined | symbol;

/** The outer side of variable access. Every function returns primitives and never throws. */
export interface VariableHost {
  /** Top-level variable `name` (OBJECT/ARRAY: its handle is `lastHandle()`). */
  readVar(name: string): Answer;
  /** Own key `key` of the object or array behind handle `h`. */
  read(h: number, key: string): Answer;
  has(h: number, key: string): boolean;
  /** Own keys of an object handle, as a JSON array. */
  keys(h: number): string;
  length(h: number): number;
  lastHandle(): number;
  /** The name (path) of the last missing variable, for the error message. */
  missing(): string;
}

/** An error thrown inside the realm, described with primitives only. */
export interface RealmFailure {
  name: string;
  message: string;
  stack: string;
}

export type RealmResult =
  | { ok: true; kind: 'value'; value: Answer }
  | { ok: true; kind: 'json'; json: string | undefined }
  /** `thrown`: what the outer side threw while answering a read, if that is why it failed. */
  | { ok: false; error: RealmFailure; thrown?: { error: unknown }; timedOut?: boolean };

/** A compiled template or expression: a function living in the realm. */
export type RealmFunction = object & { readonly __realmFunction: unique symbol };

// Names template code may use from the realm's global object. Everything else that the global
// has (Function, eval, Reflect, Proxy, globalThis, WebAssembly, console, constructor, ...) is
// reported as an undefined variable; names the global lacks (process, require, Buffer, ...) are
// undefined anyway.
export const ALLOWED_GLOBALS = [
  'undefined', 'NaN', 'Infinity',
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Date', 'RegExp', 'JSON', 'Math',
  'Map', 'Set', 'Error', 'TypeError', 'RangeError', 'parseInt', 'parseFloat', 'isNaN', 'isFinite',
  'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI', 'Intl',
] as const;

// Realm code (strict). Hardens the realm, then returns the entry points the outer side uses.
// It receives the outer host functions once and keeps them in this closure only.
const REALM_SOURCE = String.raw`'use strict';
(function (host, MISSING, OBJECT, ARRAY, FAILED, ALLOWED, RESERVED, GO) {
  const g = globalThis;

  const { Proxy, Reflect, JSON, Object: O, Array: A, String: S, Set: SetC, Error: E, ReferenceError: RefE, TypeError: TypeE } = g;
  const { ownKeys, getOwnPropertyDescriptor: reflectDescriptor, apply } = Reflect;
  const { freeze, getPrototypeOf, getOwnPropertyDescriptor, defineProperty, create } = O;
  const stringify = JSON.stringify, parse = JSON.parse;
  const setHas = SetC.prototype.has, setAdd = SetC.prototype.add;

  // Nothing that can reach the outside or compile code stays on the global.
  // Promise too: a callback queued by a render would run after it returned, with whatever
  // variables the next render set (and a rejection nobody handles would end the process).
  for (const name of ['eval', 'console', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef', 'Promise']) delete g[name];
  if ('fromAsync' in g.Array) delete g.Array.fromAsync;
  // A realm-level prepareStackTrace would hand template code the functions on the stack.
  defineProperty(E, 'prepareStackTrace', { value: undefined, writable: false, enumerable: false, configurable: false });
  defineProperty(E, 'stackTraceLimit', { value: 30, writable: false, enumerable: false, configurable: false });

  // RegExp's legacy statics (RegExp.$1, RegExp.input, ...) would carry one render's matches
  // into the next one.
  for (const key of ownKeys(g.RegExp)) if (typeof key === 'string' && (key[0] === '$' || /^(?:input|last|left|right)/.test(key))) delete g.RegExp[key];

  // Reading a missing property of a string, number or boolean is an error, as it is for the
  // variables' objects and lists: a lookup that reaches past String.prototype (and the others)
  // meets this proxy, which knows only Object.prototype's members.
  const objectProto = O.prototype;
  const primitiveTail = new Proxy(create(objectProto), {
    __proto__: null,
    get(t, key, receiver) {
      if (typeof key === 'symbol' || key in objectProto) return Reflect.get(objectProto, key, receiver);
      throw new TypeE('a ' + typeof receiver + ' has no property ' + stringify(key));
    },
    has(t, key) { return key in objectProto; },
  });
  for (const proto of [g.String.prototype, g.Number.prototype, g.Boolean.prototype]) O.setPrototypeOf(proto, primitiveTail);

  // Freeze every intrinsic reachable from the global, plus the hidden ones reachable by syntax,
  // so that one render cannot change what another render (another host) sees.
  // The global object itself cannot be frozen (node:vm); its bindings are made read-only below.
  const seen = new SetC([g]);
  const harden = (value) => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
    if (apply(setHas, seen, [value])) return;
    apply(setAdd, seen, [value]);
    freeze(value);
    harden(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const d = reflectDescriptor(value, key);
      if (!d) continue;
      if ('value' in d) harden(d.value);
      else { harden(d.get); harden(d.set); }
    }
  };
  const hidden = [
    async function () {}, function* () {}, async function* () {}, () => {},
    [][Symbol.iterator](), new g.Map().entries(), new g.Set().values(), ''[Symbol.iterator](),
    /x/[Symbol.matchAll](''), (function* () {})(), (async function* () {})(),
  ];
  for (const value of hidden) { harden(value); harden(getPrototypeOf(value)); }
  // A render under a time limit is started by a script (node:vm times scripts, not calls):
  // 'prepare' leaves the function here and the script's call to the global GO takes it. GO is a
  // global name like the others, so the scope reports it as undefined to templates; reached
  // through the global object, it finds nothing waiting.
  let pending = null;
  const prepare = (fn, exportAsData) => { pending = [fn, exportAsData]; };
  const go = () => {
    const next = pending;
    pending = null;
    if (next === null) throw new E('no render is waiting');
    return run(next[0], next[1]);
  };
  defineProperty(g, GO, { value: freeze(go), writable: false, enumerable: false, configurable: false });
  // The global's own bindings keep their values here. Template code reads allowed built-ins
  // from these (through the scope), never from the global, so a template that overwrites a
  // global binding (through a sloppy function's 'this') changes nothing another render sees;
  // the sweep below puts it back. (Making the bindings read-only would copy all of them onto
  // node:vm's sandbox object, and make the cheap "did a template add a global" check slow.)
  const globalNames = new SetC();
  const originals = create(null);
  for (const key of ownKeys(g)) {
    const d = reflectDescriptor(g, key);
    if (!d || typeof key !== 'string') continue;
    apply(setAdd, globalNames, [key]);
    if ('value' in d) {
      harden(d.value);
      originals[key] = d.value;
    }
  }
  for (let p = getPrototypeOf(g); p !== null; p = getPrototypeOf(p)) {
    harden(p);
    for (const key of ownKeys(p)) if (typeof key === 'string') apply(setAdd, globalNames, [key]);
  }
  const allowed = new SetC(parse(ALLOWED));
  const reserved = new SetC(parse(RESERVED));
  const isReserved = (key) => apply(setHas, reserved, [key]);

  // Calls into the outer side. Whatever happens there (even a stack overflow thrown before its
  // own try/catch runs) never reaches template code as an outer object.
  const ask = (fn, a, b) => {
    let answer;
    try { answer = fn(a, b); } catch { throw new E('internal error while reading a variable'); }
    if (answer === FAILED) throw new E('reading a variable failed');
    return answer;
  };
  const notDefined = (name) => new RefE(name + ' is not defined');
  const readOnly = () => { throw new TypeE('variables are read-only in templates'); };
  const INDEX = /^(?:0|[1-9][0-9]*)$/;

  const wrap = (answer) => {
    if (answer === OBJECT) return objectView(ask(host.lastHandle));
    if (answer === ARRAY) return arrayView(ask(host.lastHandle));
    return answer;
  };

  // One handler per kind, shared by every view; the view's handle number sits on its dummy
  // target under a symbol only this code knows (template code never sees a target).
  const HANDLE = Symbol('handle');
  const readOnlyTraps = {
    set: readOnly, defineProperty: readOnly, deleteProperty: readOnly, setPrototypeOf: readOnly, preventExtensions: readOnly,
  };

  const objectHandler = freeze({
    __proto__: null,
    ...readOnlyTraps,
    get(t, key) {
      if (typeof key === 'symbol') return t[key];
      const answer = ask(host.read, t[HANDLE], key);
      if (answer !== MISSING) return wrap(answer);
      if (key in t) return t[key];
      if (key === 'toJSON' || key === 'then') return undefined;
      throw notDefined(ask(host.missing));
    },
    has(t, key) {
      if (typeof key === 'symbol') return key !== HANDLE && key in t;
      return ask(host.has, t[HANDLE], key) || key in t;
    },
    ownKeys(t) { return parse(ask(host.keys, t[HANDLE])); },
    getOwnPropertyDescriptor(t, key) {
      if (typeof key === 'symbol' || !ask(host.has, t[HANDLE], key)) return undefined;
      return { value: wrap(ask(host.read, t[HANDLE], key)), writable: true, enumerable: true, configurable: true };
    },
  });
  const objectView = (h) => {
    const dummy = create(O.prototype);
    dummy[HANDLE] = h;
    return new Proxy(dummy, objectHandler);
  };

  const isIndex = (key, length) => {
    const n = +key;
    return n >= 0 && n < length && INDEX.test(key);
  };
  const element = (t, key) => {
    const answer = ask(host.read, t[HANDLE], key);
    if (answer === MISSING) throw notDefined(ask(host.missing));
    return wrap(answer);
  };
  const arrayHandler = freeze({
    __proto__: null,
    ...readOnlyTraps,
    get(t, key) {
      if (typeof key === 'symbol' || key === 'length') return t[key];
      if (isIndex(key, t.length)) return element(t, key);
      if (key in t) return t[key];
      if (key === 'toJSON' || key === 'then') return undefined;
      ask(host.read, t[HANDLE], key);
      throw notDefined(ask(host.missing));
    },
    has(t, key) {
      if (typeof key === 'symbol') return key !== HANDLE && key in t;
      if (INDEX.test(key)) return +key < t.length;
      return key in t;
    },
    ownKeys(t) {
      const keys = [];
      for (let i = 0; i < t.length; i++) keys.push(S(i));
      keys.push('length');
      return keys;
    },
    getOwnPropertyDescriptor(t, key) {
      if (key === 'length') return getOwnPropertyDescriptor(t, 'length');
      if (typeof key !== 'string' || !isIndex(key, t.length)) return undefined;
      return { value: element(t, key), writable: true, enumerable: true, configurable: true };
    },
  });
  const arrayView = (h) => {
    const dummy = [];
    dummy.length = ask(host.length, h);
    dummy[HANDLE] = h;
    return new Proxy(dummy, arrayHandler);
  };

  // The top-level scope for 'with'. Variables, names the template set itself and the allowed
  // built-ins (their values as they were at setup) are answered here; every other name the
  // global has (Function, Reflect, globalThis, constructor, ...) is an undefined variable; names
  // nobody has fall through to a plain ReferenceError (so 'typeof x' works for an undefined x).
  const makeScope = () => {
    const locals = create(null);
    // Variables are read-only during a render: a name read again (hostvars in a loop) gets the
    // same value or view without asking the outer side again.
    const known = create(null);
    return new Proxy(create(null), {
      __proto__: null,
      has(t, key) {
        if (typeof key !== 'string' || isReserved(key)) return false;
        if (key in locals || key in known) return true;
        // 'with' asks has() then get() for every name: read the variable now, once.
        const answer = ask(host.readVar, key);
        if (answer !== MISSING) {
          known[key] = wrap(answer);
          return true;
        }
        // 'key in g' catches globals a template made (x = 1): undefined variables, like any
        // other name nobody defined.
        return key === 'arguments' || apply(setHas, globalNames, [key]) || key in g;
      },
      get(t, key) {
        if (typeof key !== 'string') return undefined;
        if (key in locals) return locals[key];
        if (key in known) return known[key];
        const answer = ask(host.readVar, key);
        if (answer !== MISSING) return (known[key] = wrap(answer));
        if (apply(setHas, allowed, [key])) return originals[key];
        throw notDefined(key);
      },
      set(t, key, value) {
        if (typeof key !== 'string') return false;
        locals[key] = value;
        return true;
      },
      defineProperty: readOnly, deleteProperty: readOnly,
    });
  };

  // Reachable by template code as '__fp_text' (a parameter of every compiled function): frozen.
  const text = freeze((value) => (value === undefined || value === null ? '' : S(value)));
  const topThis = freeze(create(null));

  const describe = (error) => {
    let name = 'Error', message = '', stack = '';
    try {
      if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
        name = S(error.name);
        message = S(error.message);
        stack = S(error.stack);
      } else {
        message = S(error);
      }
    } catch {
      message = 'a value was thrown that cannot be shown';
    }
    return [name, message, stack];
  };

  // Undeclared assignments ('x = 1') land on the global: remove them so no render sees another's.
  // (Listing the global's keys is slow; the outer side calls this only when node:vm's sandbox
  // object, which receives a copy of every global a template makes or overwrites, changed.)
  const sweepGlobal = () => {
    for (const key of ownKeys(g)) {
      if (typeof key === 'string' && apply(setHas, globalNames, [key])) {
        if (key in originals && g[key] !== originals[key]) {
          try { g[key] = originals[key]; } catch { /* a non-writable redefinition stays; the scope never reads it */ }
        }
      } else {
        try { delete g[key]; } catch { /* non-configurable: the scope never reads globals a template made */ }
      }
    }
  };

  /** Runs a compiled function; returns [true, 'value'|'json', result] or [false, name, message, stack]. */
  const run = (fn, exportAsData) => {
    try {
      let value = apply(fn, topThis, [makeScope(), text]);
      // A template is text: a template that returns something else ('<% return obj %>') is
      // turned into text here, so that no object of the realm ever reaches the outer side.
      if (!exportAsData && typeof value !== 'string') value = text(value);
      if (!exportAsData || value === null || (typeof value !== 'object' && typeof value !== 'function')) {
        return [true, 'value', typeof value === 'function' || typeof value === 'symbol' ? S(value) : value];
      }
      return [true, 'json', stringify(value)];
    } catch (error) {
      return [false, ...describe(error)];
    }
  };
  return freeze({ run, prepare, sweepGlobal });
})`;

/** Names used by generated code; the scope never answers for them. */
export const RESERVED_NAMES = ['__fp_out', '__fp_text', '__fp_scope'] as const;

interface RealmEntry {
  run(fn: RealmFunction, exportAsData: boolean): unknown[];
  prepare(fn: RealmFunction, exportAsData: boolean): void;
  sweepGlobal(): void;
}

interface Realm {
  context: vm.Context;
  /** node:vm's sandbox object: every global a template creates appears here too. */
  sandbox: object;
  /** Its number of keys once the realm is set up. */
  sandboxKeys: number;
  entry: RealmEntry;
  /** Calls the prepared render: run with node:vm's timeout. */
  timedGo: vm.Script;
}

const GO_NAME = '__fp_go';

// Code with a loop runs at most this long (an endless loop is an error, not a hung run).
let renderTimeLimitMs = 10_000;

/** Sets the time limit of renders that may loop; returns the previous one (for tests). */
export function setRenderTimeLimit(ms: number): number {
  const previous = renderTimeLimitMs;
  renderTimeLimitMs = ms;
  return previous;
}

let realm: Realm | undefined;
let host: VariableHost = {
  readVar: () => MISSING, read: () => MISSING, has: () => false, keys: () => '[]', length: () => 0, lastHandle: () => 0, missing: () => '',
};

/** The outer side the realm asks from now on (one at a time: renders are synchronous). */
export function setVariableHost(next: VariableHost): VariableHost {
  const previous = host;
  host = next;
  return previous;
}

// What a host function threw during the current run (kept out of the realm, reported after).
let hostError: { error: unknown } | undefined;

// Each function the realm may call forwards to the current host and never throws.
function guarded<A extends unknown[]>(pick: (h: VariableHost) => (...args: A) => Answer | boolean): (...args: A) => unknown {
  return (...args: A) => {
    try {
      return pick(host)(...args);
    } catch (error) {
      hostError ??= { error };
      return FAILED;
    }
  };
}

function createRealm(): Realm {
  const sandbox = Object.create(null) as object;
  const context = vm.createContext(sandbox, { name: 'foobar templates', codeGeneration: { strings: false, wasm: false } });
  const factory = new vm.Script(REALM_SOURCE, { filename: REALM_FILENAME }).runInContext(context) as (...args: unknown[]) => RealmEntry;
  const bridge = {
    readVar: guarded((h) => h.readVar),
    read: guarded((h) => h.read),
    has: guarded((h) => h.has),
    keys: guarded((h) => h.keys),
    length: guarded((h) => h.length),
    lastHandle: guarded((h) => h.lastHandle),
    missing: guarded((h) => h.missing),
  };
  // The bridge is an outer object holding outer functions: realm code keeps it in a closure that
  // template code never reaches, and only calls its functions (which return primitives).
  // Only primitives besides the bridge: lists go in as JSON text.
  const entry = factory(Object.freeze(bridge), MISSING, OBJECT, ARRAY, FAILED, JSON.stringify(ALLOWED_GLOBALS), JSON.stringify(RESERVED_NAMES), GO_NAME);
  const timedGo = new vm.Script(`${GO_NAME}()`, { filename: REALM_FILENAME });
  return { context, sandbox, sandboxKeys: Reflect.ownKeys(sandbox).length, entry, timedGo };
}

function theRealm(): Realm {
  realm ??= createRealm();
  return realm;
}

/** Compiles JavaScript source (which must evaluate to a function) in the realm. Throws the
 *  SyntaxError of node:vm, whose stack starts with "foobar-template:LINE". */
export function compileInRealm(source: string): RealmFunction {
  const script = new vm.Script(source, { filename: TEMPLATE_FILENAME });
  return script.runInContext(theRealm().context) as RealmFunction;
}

// Inside a timed render, nested renders (a variable written as a template) are covered by its
// limit: node:vm's watchdogs do not nest.
let timing = false;

const isTimeout = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';

function runTimed(realm: Realm, fn: RealmFunction, exportAsData: boolean): unknown[] {
  realm.entry.prepare(fn, exportAsData);
  timing = true;
  try {
    return realm.timedGo.runInContext(realm.context, { timeout: renderTimeLimitMs }) as unknown[];
  } catch (error) {
    if (!isTimeout(error)) throw error;
    const message = `ran longer than ${renderTimeLimitMs / 1000} s (an endless loop?) and was stopped`;
    return [false, 'Error', message, '', true];
  } finally {
    timing = false;
  }
}

/** Runs a compiled function with the given host answering its variable reads; `mayLoop` code
 *  runs under the time limit. */
export function runInRealm(fn: RealmFunction, variables: VariableHost, exportAsData: boolean, mayLoop = false): RealmResult {
  const previous = setVariableHost(variables);
  const previousError = hostError;
  hostError = undefined;
  const realm = theRealm();
  const { entry, sandbox, sandboxKeys } = realm;
  try {
    const out = mayLoop && !timing ? runTimed(realm, fn, exportAsData) : entry.run(fn, exportAsData);
    if (Reflect.ownKeys(sandbox).length !== sandboxKeys) entry.sweepGlobal();
    if (out[0] === true) {
      return out[1] === 'json' ? { ok: true, kind: 'json', json: out[2] as string | undefined } : { ok: true, kind: 'value', value: out[2] as Answer };
    }
    if (out[4] === true) return { ok: false, error: { name: String(out[1]), message: String(out[2]), stack: '' }, timedOut: true };
    return { ok: false, error: { name: String(out[1]), message: String(out[2]), stack: String(out[3]) }, ...(hostError ? { thrown: hostError } : {}) };
  } finally {
    setVariableHost(previous);
    hostError = previousError;
  }
}
