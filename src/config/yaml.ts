// Load YAML keeping source positions, and read it through small typed wrappers that
// turn every surprise into a ConfigError pointing at file:line:column.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { ConfigError, formatSourceRef, type SourceRef } from '../errors.js';
import { ENGINE_VAR_HINT, isEngineVarName } from './engine-vars.js';
import { didYouMean } from './suggest.js';
import { checkText, readTextFile } from './text-file.js';
import { terminalLine } from '../text/terminal-text.js';

/** Turns the raw text of a file into the YAML text to parse (e.g. vault decryption). */
export type TextTransform = (file: string, text: string) => string | Promise<string>;

interface Source {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** Merge-key (`<<: *x`) expansions so far: nested merges can grow exponentially, like aliases. */
  merges: number;
}

/** Far above what a hand-written file needs; far below what hangs the tool. */
const MAX_MERGES = 10_000;
/** Alias expansions per anchor (the yaml package's own guard, raised from its default of 100). */
const MAX_ALIAS_COUNT = 1_000;

/** Parse YAML text; a syntax error becomes a ConfigError at the parser's position. */
export function parseYaml(text: string, file: string): YamlNode {
  checkText(text, file);
  const lineCounter = new LineCounter();
  // `merge: true` lets users share settings with YAML's `<<: *anchor`.
  // Duplicate keys are found by checkUniqueKeys: the parser's own check points at the end of
  // the previous entry when values are empty, and we want the duplicate key's line.
  const doc = guarded(file, () => parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: false }));
  const [error] = doc.errors;
  if (error) {
    const start = lineCounter.linePos(error.pos[0]);
    const where: SourceRef = { file, line: start.line, column: start.col };
    const reason = /call stack/i.test(error.message) ? 'nested too deeply' : firstSentence(error.message);
    throw new ConfigError(`malformed YAML: ${reason}`, where, snippet(text, start.line, start.col));
  }
  const source: Source = { file, doc, lineCounter, merges: 0 };
  guarded(file, () => checkUniqueKeys(source));
  const root = doc.contents as Node | null;
  return new YamlNode(source, root, root ? positionOf(source, root) : { file, line: 1, column: 1 }, '');
}

/** Read and parse a YAML file; `transform` sees the raw text first (the vault hook). */
export async function loadYamlFile(file: string, transform?: TextTransform): Promise<YamlNode> {
  const text = await readTextFile(file);
  return parseYaml(transform ? await transform(file, text) : text, file);
}

/**
 * Resource exhaustion inside the yaml package (an alias bomb, a document nested thousands deep)
 * surfaces as a ReferenceError or RangeError: make it bad input at the file, not a crash.
 */
function guarded<T>(file: string, work: () => T, where: SourceRef = { file }): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof ReferenceError && /alias/i.test(err.message)) throw aliasBomb(where);
    if (err instanceof RangeError) {
      throw new ConfigError('the YAML is nested too deeply to read', where, 'flatten the structure; no hand-written file needs thousands of levels');
    }
    throw err;
  }
}

function aliasBomb(where: SourceRef): ConfigError {
  return new ConfigError(
    `too many alias expansions in ${where.file} (a YAML alias bomb?)`,
    where,
    'an anchor (&name) referred to (*name) so often that the expanded data would be huge; refer to each anchor only a few times',
  );
}

export type YamlKind = 'map' | 'list' | 'string' | 'number' | 'boolean' | 'null' | 'other';

/** One value in a YAML document, with where it came from and typed accessors. */
export class YamlNode {
  /** @internal built by parseYaml and by the map / list readers */
  constructor(
    private readonly source: Source,
    private readonly node: Node | null,
    /** Where this value is; for an empty value, where its key is. */
    readonly where: SourceRef,
    /** Dotted path from the document root, for messages ("hosts.web1.port"). */
    readonly path: string,
  ) {}

  get file(): string {
    return this.source.file;
  }

  /** Where the value's text begins: a block scalar (`|`, `>`) starts on the line after its indicator. */
  get textWhere(): SourceRef {
    const type = (this.node as { type?: string } | null)?.type;
    const isBlock = type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED';
    return isBlock && this.where.line !== undefined ? { file: this.where.file, line: this.where.line + 1 } : this.where;
  }

  get kind(): YamlKind {
    const node = this.resolved();
    if (node === null || (isScalar(node) && node.value === null)) return 'null';
    if (isMap(node)) return 'map';
    if (isSeq(node)) return 'list';
    if (isScalar(node)) {
      const type = typeof node.value;
      if (type === 'string' || type === 'number' || type === 'boolean') return type;
    }
    return 'other';
  }

  get isNull(): boolean {
    return this.kind === 'null';
  }

  /** Throw a ConfigError at this value, prefixed with its path. */
  fail(message: string, hint?: string): never {
    throw new ConfigError(this.path ? `${this.path}: ${message}` : message, this.where, hint);
  }

  /** Throw "expected X, got Y". */
  expected(what: string, hint?: string): never {
    return this.fail(`expected ${what}, got ${describeKind(this.kind, this.scalarValue())}`, hint);
  }

  asMap(what = 'a map of key: value'): YamlMap {
    const node = this.resolved();
    if (!isMap(node)) return this.expected(what);
    return new YamlMap(this, readEntries(this.source, node, this.path));
  }

  /** A map, or an empty map when the value is empty (`web1:` with nothing after it). */
  asMapOrEmpty(what?: string): YamlMap {
    return this.isNull ? new YamlMap(this, []) : this.asMap(what);
  }

  asList(what = 'a list'): YamlNode[] {
    const node = this.resolved();
    if (!isSeq(node)) return this.expected(what);
    return node.items.map((item, index) => this.child(item as Node | null, `[${index}]`, this.where));
  }

  asString(what = 'a string'): string {
    const value = this.scalarValue();
    if (typeof value !== 'string') return this.expected(what);
    return value;
  }

  /** A string, number or boolean written as text, e.g. `when: true` or `user: 1000`. */
  asText(what = 'a string'): string {
    const value = this.scalarValue();
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return this.expected(what);
    }
    return String(value);
  }

  /** A single string or a list of strings: `tags: web` and `tags: [web, db]` both work. */
  asStringList(what = 'a string or a list of strings'): string[] {
    if (this.kind === 'list') return this.asList(what).map((item) => item.asText(what));
    return [this.asText(what)];
  }

  asBool(what = 'true or false'): boolean {
    const value = this.scalarValue();
    if (typeof value !== 'boolean') return this.expected(what);
    return value;
  }

  asNumber(what = 'a number'): number {
    const value = this.scalarValue();
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.expected(what);
    return value;
  }

  /** A whole number within [min, max]. */
  asInteger(what: string, min = -Infinity, max = Infinity): number {
    const value = this.scalarValue();
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.expected(what);
    }
    return value;
  }

  /** The plain JavaScript value (aliases and merge keys resolved). */
  toJS(): unknown {
    const node = this.node;
    if (node === null) return null;
    return guarded(this.source.file, () => node.toJS(this.source.doc, { maxAliasCount: MAX_ALIAS_COUNT }) as unknown, this.where);
  }

  /** @internal */
  child(node: Node | null, segment: string, fallback: SourceRef): YamlNode {
    const path = segment.startsWith('[') || !this.path ? `${this.path}${segment}` : `${this.path}.${segment}`;
    const where = node && !isEmpty(node) ? positionOf(this.source, node) : fallback;
    return new YamlNode(this.source, node, where, path);
  }

  private resolved(): Node | null {
    return resolveAlias(this.source, this.node);
  }

  private scalarValue(): unknown {
    const node = this.resolved();
    return isScalar(node) ? node.value : undefined;
  }
}

export interface YamlEntry {
  key: string;
  keyWhere: SourceRef;
  value: YamlNode;
}

/** A YAML mapping with string keys, in file order. */
export class YamlMap {
  private readonly byKey: Map<string, YamlEntry>;

  /** @internal */
  constructor(
    readonly node: YamlNode,
    readonly entries: readonly YamlEntry[],
  ) {
    this.byKey = new Map(entries.map((entry) => [entry.key, entry]));
  }

  get where(): SourceRef {
    return this.node.where;
  }

  keys(): string[] {
    return this.entries.map((entry) => entry.key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): YamlNode | undefined {
    return this.byKey.get(key)?.value;
  }

  entry(key: string): YamlEntry | undefined {
    return this.byKey.get(key);
  }

  /** The value of a key that must be present (an empty value counts as missing). */
  require(key: string, what: string): YamlNode {
    const value = this.get(key);
    if (!value || value.isNull) this.node.fail(`missing required key "${key}" (${what})`);
    return value;
  }

  /** Reject keys outside a fixed shape, naming the key, a close match and the allowed keys. */
  checkKeys(allowed: readonly string[], shape: string): void {
    for (const entry of this.entries) {
      if (allowed.includes(entry.key)) continue;
      throw new ConfigError(
        `unknown key "${entry.key}" in ${shape}${didYouMean(entry.key, allowed)}`,
        entry.keyWhere,
        `allowed keys: ${allowed.join(', ')}`,
      );
    }
  }

  /** Values keyed by name with each key's location: the shape every `vars:` block has. */
  toVars(): { values: Record<string, unknown>; where: Map<string, SourceRef> } {
    const values: Record<string, unknown> = {};
    const where = new Map<string, SourceRef>();
    for (const entry of this.entries) {
      // Assigning "__proto__" would set the object's prototype: the variable would vanish silently.
      if (entry.key === '__proto__') throw new ConfigError('"__proto__" cannot be a variable name', entry.keyWhere, 'rename the variable');
      if (isEngineVarName(entry.key)) throw new ConfigError(`"${entry.key}" cannot be a variable name: the engine sets it`, entry.keyWhere, ENGINE_VAR_HINT);
      values[entry.key] = entry.value.toJS();
      where.set(entry.key, entry.keyWhere);
    }
    return { values, where };
  }
}

function readEntries(source: Source, map: Node, path: string): YamlEntry[] {
  if (!isMap(map)) return [];
  const owner = new YamlNode(source, map, positionOf(source, map), path);
  const explicit: YamlEntry[] = [];
  const merged: YamlEntry[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const keyWhere = keyNode ? positionOf(source, keyNode) : owner.where;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key === 'symbol') {
      // `<<: *anchor` (or a list of anchors): explicit keys override merged ones.
      merged.push(...mergedEntries(source, owner.path, pair.value as Node | null, keyWhere));
      continue;
    }
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
      throw new ConfigError(`${path ? `${path}: ` : ''}map keys must be plain names`, keyWhere);
    }
    const name = String(key);
    explicit.push({ key: name, keyWhere, value: owner.child(pair.value as Node | null, name, keyWhere) });
  }
  const explicitKeys = new Set(explicit.map((entry) => entry.key));
  const seenMerged = new Set<string>();
  const fromMerge = merged.filter((entry) => {
    if (explicitKeys.has(entry.key) || seenMerged.has(entry.key)) return false;
    seenMerged.add(entry.key);
    return true;
  });
  return [...explicit, ...fromMerge];
}

function mergedEntries(source: Source, path: string, value: Node | null, where: SourceRef): YamlEntry[] {
  if (++source.merges > MAX_MERGES) throw aliasBomb(where);
  const target = resolveAlias(source, value);
  if (isSeq(target)) return target.items.flatMap((item) => mergedEntries(source, path, item as Node | null, where));
  if (!isMap(target)) throw new ConfigError('"<<" must refer to a map', where);
  return readEntries(source, target, path);
}

function checkUniqueKeys(source: Source): void {
  visit(source.doc, {
    Map(_, map) {
      const seen = new Map<unknown, SourceRef>();
      for (const pair of map.items) {
        const key = pair.key as Node | null;
        if (!isScalar(key) || typeof key.value === 'symbol') continue;
        const where = positionOf(source, key);
        const first = seen.get(key.value);
        if (first) {
          throw new ConfigError(`duplicate key "${String(key.value)}"`, where, `first defined at ${formatSourceRef(first)}; keep one of them`);
        }
        seen.set(key.value, where);
      }
    },
  });
}

function resolveAlias(source: Source, node: Node | null): Node | null {
  if (!isAlias(node)) return node;
  return (node.resolve(source.doc) as Node | undefined) ?? null;
}

function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && !node.source;
}

function positionOf(source: Source, node: Node): SourceRef {
  const offset = node.range?.[0];
  if (offset === undefined) return { file: source.file };
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, column: col };
}

function describeKind(kind: YamlKind, value: unknown): string {
  switch (kind) {
    case 'map':
      return 'a map';
    case 'list':
      return 'a list';
    case 'string': {
      const text = String(value);
      return `the string "${terminalLine(text.length > 60 ? `${text.slice(0, 60)}…` : text)}"`;
    }
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'null':
      return 'an empty value';
    default:
      return 'an unsupported value';
  }
}

/** The parser's message without its trailing "at line L, column C:" and code excerpt. */
function firstSentence(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

const SNIPPET_WIDTH = 100;

/** The offending line with a caret under the column, as a hint. */
function snippet(text: string, line: number | undefined, column: number | undefined): string | undefined {
  if (line === undefined) return undefined;
  const full = text.split(/\r?\n/)[line - 1];
  if (full === undefined || full.trim() === '') return undefined;
  // A very long line (minified or generated) is shown as a window around the column.
  const col = Math.max(1, column ?? 1);
  const start = full.length > SNIPPET_WIDTH ? Math.max(0, Math.min(col - 1 - SNIPPET_WIDTH / 2, full.length - SNIPPET_WIDTH)) : 0;
  const shown = full.slice(start, start + SNIPPET_WIDTH);
  const source = `${start > 0 ? '…' : ''}${shown}${start + SNIPPET_WIDTH < full.length ? '…' : ''}`;
  const caret = column === undefined ? '' : `\n  ${' '.repeat(Math.max(0, col - 1 - start + (start > 0 ? 1 : 0)))}^`;
  return `near:\n  ${terminalLine(source)}${caret}`;
}
