// Templates and `when` expressions run in a sandbox: they see the variables and a few documented
// helpers, never Node (process, require, the Function constructor, import()). Values that came
// from an inventory, --var, the vault or a host are data: they are never rendered as templates.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/cli/extra-vars.js';
import { parsePlaybook } from '../../src/config/playbook.js';
import { parseInventory } from '../../src/config/inventory.js';
import { ConfigError, TemplateError, UserInputError } from '../../src/errors.js';
import { buildInventory, hostVars } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { instancesOf, prepareTask } from '../../src/run/prepare.js';
import { evaluateExpression } from '../../src/template/expression.js';
import { renderTemplateString, renderValue } from '../../src/template/render.js';
import { setRenderTimeLimit } from '../../src/template/realm.js';

const dir = mkdtempSync(join(tmpdir(), 'foobar-sandbox-'));
const canary = join(dir, 'CANARY');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const none = { secretVarNames: new Set<string>() };
const at = { file: 'playbooks/site.yml', line: 12 };
const vars = () => ({ greeting: 'hi', list: ['a', 'b'], hostvars: { web1: { role: 'web' } }, inventory_hostname: 'web1' });

// `P` is replaced by an expression that would be Node's `process` if the escape worked.
const write = (p: string) => `${p}.getBuiltinModule('fs').writeFileSync(${JSON.stringify(canary)}, 'p')`;
const ESCAPES: Array<[string, string]> = [
  ['process', write('process')],
  ['globalThis.process', write('globalThis.process')],
  ['global', write('global.process')],
  ['require', `require('fs').writeFileSync(${JSON.stringify(canary)}, 'p')`],
  ['module', `module.constructor._load('fs').writeFileSync(${JSON.stringify(canary)}, 'p')`],
  ['this.constructor.constructor', write(`this.constructor.constructor('return process')()`)],
  ['string constructor', write(`"".constructor.constructor("return process")()`)],
  ['array constructor', write(`[].constructor.constructor("return process")()`)],
  ['arrow constructor', write(`(() => {}).constructor("return process")()`)],
  ['async function constructor', `(async () => {}).constructor("return process")()`],
  ['generator constructor', write(`(function* () {}).constructor("return process")().next().value`)],
  ['Function', write(`Function("return process")()`)],
  ['eval', write(`eval("process")`)],
  ['import()', `import('node:fs').then((fs) => fs.writeFileSync(${JSON.stringify(canary)}, 'p'))`],
  ['import.meta', `import.meta.url`],
  ['caught error constructor', write(`(() => { try { greeting.nope } catch (e) { return e.constructor.constructor('return process')() } })()`)],
  ['prototype of a list', write(`Object.getPrototypeOf(list).constructor.constructor('return process')()`)],
  ['list.__proto__', write(`list.__proto__.constructor.constructor('return process')()`)],
  ['Reflect', write(`Reflect.getPrototypeOf(list).constructor.constructor('return process')()`)],
  ['arguments.callee', write(`(function () { return arguments.callee.constructor('return process')() })()`)],
  ['arguments.callee.caller', write(`(function () { return arguments.callee.caller.constructor.constructor('return process')() })()`)],
  ['Error.prepareStackTrace', write(`(() => { Error.prepareStackTrace = (e, s) => s; const s = new Error('x').stack; return s[1].getFunction().constructor('return process')() })()`)],
  ['WebAssembly', `WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))`],
  ['setTimeout', `setTimeout(() => 0, 1)`],
  ['Buffer', `Buffer.from('x')`],
  ['queueMicrotask', `queueMicrotask(() => 0)`],
  ['toString of a variable', write(`greeting.toString.constructor('return process')()`)],
  ['hostvars.web1.constructor', write(`hostvars.web1.constructor.constructor('return process')()`)],
  ['bare constructor', write(`constructor.constructor('return process')()`)],
  ['bare toString', write(`toString.constructor('return process')()`)],
  ['sloppy this', write(`(function () { return this })().constructor.constructor('return process')()`)],
  ['Object.constructor', write(`Object.constructor('return process')()`)],
  ['JSON.constructor', write(`JSON.constructor.constructor('return process')()`)],
  ['getter this', write(`({ get x() { return this } }).x.constructor.constructor('return process')()`)],
  ['the output helper', write(`__fp_text.constructor('return process')()`)],
  ['the scope object', write(`__fp_scope.constructor.constructor('return process')()`)],
  ['past String.prototype', write(`Object.getPrototypeOf(''.__proto__).constructor.constructor('return process')()`)],
  ['Intl', write(`Intl.constructor.constructor('return process')()`)],
  ['Symbol.for', write(`Symbol.for('x').constructor.constructor('return process')()`)],
  ['defineProperty on Error', write(`(() => { Object.defineProperty(Error, 'prepareStackTrace', { value: (e, s) => s }); return new Error('x').stack[0].getThis() })()`)],
  ['computed global name', write(`(function () { return this })()['pro' + 'cess']`)],
  ['Promise', `Promise.resolve(1)`],
  ['async function awaiting import', `(async () => { await import('node:fs') })()`],
  ['toJSON of a value', `JSON.stringify({ toJSON() { return process } })`],
  ['with and a fresh scope', write(`(() => { with ({}) { return constructor.constructor('return process')() } })()`)],
  ['getter on an exported value', write(`({ get p() { return [].constructor.constructor('return process')() } }).p`)],
  ['Symbol.species', write(`(() => { class A extends Array { static get [Symbol.species]() { return function () { return this } } } return new A(1, 2).map((x) => x).constructor.constructor('return process')() })()`)],
  ['Array.from map function this', write(`Array.from(list, function () { return this }).constructor.constructor('return process')()`)],
  ['JSON.parse reviver this', write(`JSON.parse('{"a":1}', function () { return this }).constructor.constructor('return process')()`)],
  ['tagged template strings', write('((s) => s.raw.constructor.constructor("return process")())`x`')],
  ['String.raw', write('String.raw.constructor("return process")()')],
  ['replace callback arguments', write(`greeting.replace(/h/, function () { return arguments.callee.constructor('return process')() })`)],
  ['Symbol.replace', write(`'abc'.replace({ [Symbol.replace](s, r) { return r.constructor.constructor('return process')() } }, 'x')`)],
  ['Error.captureStackTrace', write(`(() => { const o = {}; Error.captureStackTrace(o); return o.stack.constructor.constructor('return process')() })()`)],
  ['Intl object constructor', write(`new Intl.DateTimeFormat().constructor.constructor.constructor('return process')()`)],
  ['global Promise', `(function () { return this })().Promise.resolve().then(() => 0)`],
  ['the timed-render entry point', `(function () { return this })().__fp_go()`],
  ['stack overflow near a trap', write(`(() => { let leaked = null; const f = () => { try { f() } catch (e) { try { hostvars.web1.role } catch (e2) { if (!leaked) leaked = e2 } } }; f(); return leaked.constructor.constructor('return process')() })()`)],
];

function expectRefused(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'the attempt must fail').toBeInstanceOf(UserInputError);
  expect(thrown instanceof TemplateError || thrown instanceof ConfigError).toBe(true);
}

describe('escapes from templates and expressions', () => {
  it.each(ESCAPES)('%s fails in a template', async (_name, code) => {
    expectRefused(() => renderTemplateString(`x <%= ${code} %>`, vars(), at, none));
    await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(canary)).toBe(false);
  });

  it.each(ESCAPES)('%s fails in a when expression', async (_name, code) => {
    expectRefused(() => evaluateExpression(code, vars(), at));
    await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(canary)).toBe(false);
  });

  it.each(ESCAPES)('%s fails in a code tag', async (_name, code) => {
    expectRefused(() => renderTemplateString(`<% const r = ${code}; %>done`, vars(), at, none));
    await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(canary)).toBe(false);
  });

  it('a render cannot change what the next render sees (built-ins are frozen)', () => {
    try {
      renderTemplateString(`<% Array.prototype.join = function () { return 'pwned' }; Object.prototype.x = 1; JSON.stringify = () => 'pwned' %>`, vars(), at, none);
    } catch {
      // refusing is fine too
    }
    expect(renderTemplateString(`<%= list.join(',') %> <%= JSON.stringify(list) %>`, vars(), at, none).content).toBe('a,b ["a","b"]');
  });

  it('variables are read-only inside templates', () => {
    const v = vars();
    expect(() => renderTemplateString(`<% list.push('c') %>`, v, at, none)).toThrow(TemplateError);
    expect(() => renderTemplateString(`<% hostvars.web1.role = 'db' %>`, v, at, none)).toThrow(TemplateError);
    expect(v.list).toEqual(['a', 'b']);
    expect(v.hostvars.web1.role).toBe('web');
  });

  it('documented helpers still work', () => {
    const out = renderTemplateString(
      `<%= JSON.stringify({a: 1}) %> <%= Math.max(1, 2) %> <%= Object.keys(hostvars).join() %> <%= String(3) %> <%= parseInt('42', 10) + Number('1') %> <%= encodeURIComponent('a b') %> <%= list.map((x) => x.toUpperCase()).join('') %> <%= [...list].length %>`,
      vars(), at, none,
    );
    expect(out.content).toBe('{"a":1} 2 web1 3 43 a%20b AB 2');
  });

  it('a value out of a single tag is plain data, not a view on the variables', () => {
    const v = vars();
    const { value } = renderValue('<%= list %>', v, at, none);
    expect(value).toEqual(['a', 'b']);
    expect(Array.isArray(value)).toBe(true);
    (value as string[]).push('c');
    expect(v.list).toEqual(['a', 'b']);
    expect(Object.getPrototypeOf(value)).toBe(Array.prototype);
  });
});

describe('strict variables', () => {
  it('a missing property or index of a known variable is an error naming the path', () => {
    expect(() => renderTemplateString('<%= hostvars.web1.nope %>', vars(), at, none)).toThrow('undefined variable "hostvars.web1.nope"');
    // A string has no properties of its own to name: the error says what was asked of it.
    expect(() => renderTemplateString('<%= greeting.nope %>', vars(), at, none)).toThrow('a string has no property "nope"');
    expect(() => renderTemplateString('<%= list[5] %>', vars(), at, none)).toThrow('undefined variable "list[5]"');
    expect(() => evaluateExpression('hostvars.web2.role', vars(), at)).toThrow('undefined variable "hostvars.web2"');
  });

  it('an unknown name names the file, the line and the host', () => {
    let error: unknown;
    try {
      renderTemplateString('a\n<%= web_rot %>', vars(), { file: 'playbooks/roles/web/tasks.yml', line: 11 }, none);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).describe()).toMatch(/^playbooks\/roles\/web\/tasks\.yml:12: undefined variable "web_rot" \(host web1\)\n  hint: /);
  });

  it('an unknown name in a when expression names the host', () => {
    expect(() => evaluateExpression('web_rot == 1', vars(), at)).toThrow(/undefined variable "web_rot".*\(host web1\)/);
  });

  it('a syntax error is reported at its real line with a plain message', () => {
    let error: unknown;
    try {
      renderTemplateString('line 1\nline 2\n<% if (x { %>\nline 4\n', { x: 1 }, { file: 'templates/app.conf.ejs', line: 1 }, none);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    const text = (error as TemplateError).describe();
    expect(text).toMatch(/^templates\/app\.conf\.ejs:3: template syntax error: /);
    expect((error as TemplateError).message).toBe("template syntax error: Unexpected token '{'");
  });
});

describe('data is never a template', () => {
  it('an inventory variable holding EJS is literal text', () => {
    const inventory = buildInventory(parseInventory('hosts:\n  web1:\n    address: 10.0.0.21\n    vars:\n      qa: "<%= process.exit(7) %>"\n', 'inventory.yml'), { defaultUser: 'ops' });
    const v = hostVars(inventory, inventory.hosts[0]!);
    expect(renderTemplateString('<%= qa %>', v, at, none).content).toBe('<%= process.exit(7) %>');
    expect(renderValue('<%= qa %>', v, at, none).value).toBe('<%= process.exit(7) %>');
  });

  it('--var with EJS is literal text', () => {
    const inventory = buildInventory(parseInventory('hosts:\n  web1:\n', 'inventory.yml'), { defaultUser: 'ops' });
    const v = hostVars(inventory, inventory.hosts[0]!, { extraVars: parseExtraVars(['x=<%= 6*7 %>']) });
    expect(renderTemplateString('x=<%= x %>', v, at, none).content).toBe('x=<%= 6*7 %>');
  });

  it('a registered stdout holding EJS is copied as literal text', async () => {
    const text = ['- name: site', '  hosts: all', '  tasks:', '    - copy: { content: "<%= m.stdout %>", dest: /etc/x }', ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const task = book.plays[0]!.tasks[0]!;
    const payload = `<%= ${write('process')} %>`;
    const prepared = await prepareTask(task, modules.get('copy')!, { m: { stdout: payload }, inventory_hostname: 'web1' }, {
      modules, secretVarNames: new Set(), searchPathFor: () => [], runtimeNames: new Set(),
    });
    expect(prepared.state).toBe('ready');
    const resolved = (prepared as { resolved: { content: Buffer } }).resolved;
    expect(resolved.content.toString('utf8')).toBe(payload);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('play vars and role defaults are templates, rendered when read', () => {
  const roles = join(dir, 'book');
  mkdirSync(join(roles, 'roles', 'web'), { recursive: true });
  writeFileSync(join(roles, 'roles', 'web', 'defaults.yml'), [
    'web_root: "/srv/<%= site %>"',
    'rules:',
    '  - { from: "<%= groups_web %>" }',
    'loop_a: "<%= loop_b %>"',
    'loop_b: "<%= loop_a %>"',
    '',
  ].join('\n'));
  writeFileSync(join(roles, 'roles', 'web', 'tasks.yml'), '- command: "true"\n');

  async function playVars(extra: Record<string, unknown> = {}) {
    const text = ['- hosts: all', '  roles: [web]', '  vars:', '    site: "<%= inventory_hostname %>.lan"', '    groups_web: [a, b]', ''].join('\n');
    const book = await parsePlaybook(text, join(roles, 'site.yml'), { knownModules: new Set(knownModuleNames) });
    const play = book.plays[0]!;
    const inventory = buildInventory(parseInventory('hosts:\n  web1:\n', 'inventory.yml'), { defaultUser: 'ops' });
    return hostVars(inventory, inventory.hosts[0]!, { roleDefaults: play.roleDefaults, playVars: play.vars, extraVars: extra });
  }

  it('a role default refers to a play var that refers to a magic var', async () => {
    const v = await playVars();
    expect(renderTemplateString('<%= web_root %>', v, at, none).content).toBe('/srv/web1.lan');
    expect(evaluateExpression('web_root.endsWith(".lan")', v, at)).toBe(true);
    expect(renderValue('<%= rules %>', v, at, none).value).toEqual([{ from: ['a', 'b'] }]);
    // Still templates after the engine adds registered results and loop items.
    expect(renderTemplateString('<%= web_root %>', { ...v, item: 1, r: { stdout: '' } }, at, none).content).toBe('/srv/web1.lan');
  });

  it('a --var of the same name is data, even when a role default was a template', async () => {
    const v = await playVars({ web_root: '<%= site %>' });
    expect(renderTemplateString('<%= web_root %>', v, at, none).content).toBe('<%= site %>');
  });

  it('a cycle between variables is an error, not a hang', async () => {
    const v = await playVars();
    expect(() => renderTemplateString('<%= loop_a %>', v, at, none)).toThrow(/refers to itself/);
  });
});

describe('renders do not share state', () => {
  it('a match in one render is not visible to the next (RegExp statics are gone)', () => {
    renderTemplateString(`<% /(h)i/.test(greeting) %>`, vars(), at, none);
    expect(renderTemplateString(`<%= typeof RegExp.$1 %>/<%= typeof RegExp.input %>`, vars(), at, none).content).toBe('undefined/undefined');
  });

  it('a global assigned by one render is gone in the next', () => {
    renderTemplateString(`<% leaked = greeting %>`, vars(), at, none);
    expect(renderTemplateString(`<%= typeof leaked %>`, vars(), at, none).content).toBe('undefined');
  });
});

describe('data holding "<%" gets the same argument checks as any other value', () => {
  async function prepareOne(taskLine: string, v: Record<string, unknown>) {
    const text = ['- name: site', '  hosts: all', '  tasks:', `    - ${taskLine}`, ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const task = book.plays[0]!.tasks[0]!;
    return prepareTask(task, modules.get(task.module)!, { inventory_hostname: 'web1', ...v }, {
      modules, secretVarNames: new Set(), searchPathFor: () => [], runtimeNames: new Set(),
    });
  }

  it('a service name from a variable is checked even when it holds "<%"', async () => {
    await expect(prepareOne('service: { name: "<%= svc %>", state: started }', { svc: '--root=/tmp <%' })).rejects.toThrow(UserInputError);
  });

  it("ufw's SSH lock-out guard is not skipped for rules that render to text holding \"<%\"", async () => {
    await expect(prepareOne('ufw: { rules: "<%= fw %>" }', { fw: '<%= rules %>' })).rejects.toThrow(UserInputError);
  });

  it('a file path from a variable must still be absolute', async () => {
    await expect(prepareOne('file: { path: "<%= p %>", state: directory }', { p: 'relative/<%' })).rejects.toThrow(/absolute/);
  });
});

describe('data holding "<%" cannot slip into SQL', () => {
  it('a mysql_db encoding from a variable is checked even when it holds "<%"', async () => {
    const text = ['- name: site', '  hosts: all', '  tasks:', '    - mysql_db: { name: app, encoding: "<%= enc %>" }', ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const task = book.plays[0]!.tasks[0]!;
    const run = prepareTask(task, modules.get('mysql_db')!, { inventory_hostname: 'db1', enc: 'utf8; DROP DATABASE mysql; -- <%' }, {
      modules, secretVarNames: new Set(), searchPathFor: () => [], runtimeNames: new Set(),
    });
    await expect(run).rejects.toThrow(/not a character set/);
  });
});

describe('a template that overwrites a global binding', () => {
  it('changes nothing the next render sees', () => {
    try {
      renderTemplateString(`<% (function () { return this })().JSON = { stringify: () => 'pwned' } %>`, vars(), at, none);
    } catch {
      // refusing is fine too
    }
    expect(renderTemplateString(`<%= JSON.stringify(list) %>`, vars(), at, none).content).toBe('["a","b"]');
    expect(renderTemplateString(`<%= (function () { return this })().JSON === JSON %>`, vars(), at, none).content).toBe('true');
  });
});

describe('nothing made by template code runs after the render or outside the realm', () => {
  it('a template that returns an object (whose text conversion throws another object) fails as a template error', () => {
    const thrower = `{ get message() { return 'M' }, [Symbol.for('nodejs.util.inspect.custom')](d, o) { return o.constructor.constructor('return process')() } }`;
    expectRefused(() => renderTemplateString(`<% return { toString() { throw ${thrower} } } %>`, vars(), at, none));
    expectRefused(() => renderTemplateString(`<% return { [Symbol.toPrimitive]() { throw ${thrower} } } %>`, vars(), at, none));
  });

  it('a template that returns an object gets its text inside the realm', () => {
    expect(renderTemplateString(`<% return { toString() { return 'X' } } %>`, vars(), at, none).content).toBe('X');
  });

  it.each([
    ['an async function', `(async () => { await 0; throw new Error('late') })()`],
    ['Promise from the global', `(function () { return this })().Promise.reject(new Error('late'))`],
  ])('%s is refused (no code runs after the render returns)', async (_name, code) => {
    const late: unknown[] = [];
    const onLate = (reason: unknown) => late.push(reason);
    process.on('unhandledRejection', onLate);
    try {
      expectRefused(() => renderTemplateString(`<% ${code} %>done`, vars(), at, none));
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', onLate);
    }
    expect(late).toEqual([]);
  });
});

describe('an endless loop (or runaway work) in a template', () => {
  it.each([
    ['a template', () => renderTemplateString('a\n<% while (true) {} %>', vars(), at, none)],
    ['an expression', () => evaluateExpression('(() => { for (;;) {} })()', vars(), at)],
    ['a single-tag value', () => renderValue('<%= (() => { do {} while (1) })() %>', vars(), at, none)],
    // A host's text matched by a backtracking pattern (changed_when over a registered stdout).
    ['a regular expression over host text', () => evaluateExpression('/^(\\w+\\s?)*$/.test(out)', { ...vars(), out: `${'a'.repeat(40)}!` }, at)],
    ['a pattern given as a string', () => evaluateExpression(`out.match('^(a+)+$')`, { ...vars(), out: `${'a'.repeat(40)}!` }, at)],
    ['recursion that catches its own stack overflow', () => renderTemplateString('<% const f = (n) => { try { f(n + 1) } catch (e) { f(n + 1) } }; f(0) %>', vars(), at, none)],
  ])('in %s is stopped with a template error, and the next render works', (_name, run) => {
    const previous = setRenderTimeLimit(300);
    try {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toMatch(/ran longer than 0\.3 s.*\(host web1\)/);
      expect(renderTemplateString('<%= greeting %>', vars(), at, none).content).toBe('hi');
    } finally {
      setRenderTimeLimit(previous);
    }
  });
});

describe('reading a secret through another name counts as reading it', () => {
  const secrets = { secretVarNames: new Set(['db_password']) };
  const withSecrets = () => ({ inventory_hostname: 'web1', hostvars: { db1: { db_password: 'Sup3r-s3cret-pw', port: 3306 } } });

  it("another host's secret read through hostvars", () => {
    expect(renderTemplateString('<%= hostvars.db1.db_password.toUpperCase() %>', withSecrets(), at, secrets).usedSecrets).toBe(true);
    expect(renderTemplateString('<%= JSON.stringify(hostvars) %>', withSecrets(), at, secrets).usedSecrets).toBe(true);
    expect(renderTemplateString('<%= hostvars.db1.port %>', withSecrets(), at, secrets).usedSecrets).toBe(false);
  });

  it('a loop item made from a secret makes the task\'s copy content sensitive', async () => {
    const text = ['- name: site', '  hosts: all', '  tasks:', '    - copy: { content: "<%= item.toUpperCase() %>", dest: /etc/x }', '      loop: "[db_password]"', ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const task = book.plays[0]!.tasks[0]!;
    const [instance] = await instancesOf(task, { db_password: 'Sup3r-s3cret-pw', inventory_hostname: 'web1' }, { become: false }, {
      modules, secretVarNames: new Set(['db_password']), searchPathFor: () => [], runtimeNames: new Set(),
    });
    expect(instance!.label).not.toContain('SUP3R');
    const resolved = (instance!.prepared as { resolved: { sensitive: boolean } }).resolved;
    expect(resolved.sensitive).toBe(true);
  });
});

describe('arguments built from a secret', () => {
  async function resolvedCommand(taskLine: string) {
    const text = ['- name: site', '  hosts: all', '  tasks:', `    - ${taskLine}`, ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const task = book.plays[0]!.tasks[0]!;
    const prepared = await prepareTask(task, modules.get('command')!, { inventory_hostname: 'web1', pw: 'Sup3r-s3cret-pw' }, {
      modules, secretVarNames: new Set(['pw']), searchPathFor: () => [], runtimeNames: new Set(),
    });
    return (prepared as { resolved: { hidden?: boolean } }).resolved;
  }

  it('hide a command whose text read one (free-form or cmd), not one that only feeds it on stdin', async () => {
    expect((await resolvedCommand('command: "echo <%= pw.toUpperCase() %>"')).hidden).toBe(true);
    expect((await resolvedCommand('command: { cmd: "echo <%= pw.length %>" }')).hidden).toBe(true);
    expect((await resolvedCommand('command: { cmd: "mysql -u root", stdin: "<%= pw %>" }')).hidden).toBeUndefined();
  });
});

describe('a failing render that read a secret', () => {
  const secrets = { secretVarNames: new Set(['pw']) };
  const v = () => ({ inventory_hostname: 'web1', pw: 'Sup3r-s3cret-pw' });
  it.each([
    ['a template', () => renderTemplateString('<%= JSON.parse(pw.toUpperCase()) %>', v(), at, secrets)],
    ['a value', () => renderValue('<%= BigInt(pw.toUpperCase()) %>', v(), at, secrets)],
    ['an expression', () => evaluateExpression('BigInt(pw.toUpperCase()) > 0', v(), at, new Set(['pw']))],
  ])('in %s does not quote what it computed from it', (_name, run) => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).describe()).not.toContain('SUP3R');
    expect((error as UserInputError).describe()).toMatch(/SyntaxError|BigInt/);
  });
});

describe('a task name that reads a secret', () => {
  it('shows the mask for each tag made from it, whatever form it took, and the other tags rendered', async () => {
    const text = ['- name: site', '  hosts: all', '  tasks:', '    - name: "deploy <%= app %> with <%= pw.toUpperCase() %> (<%= pw %>)"', '      command: "true"', ''].join('\n');
    const book = await parsePlaybook(text, '/nonexistent/site.yml', { knownModules: new Set(knownModuleNames) });
    const [instance] = await instancesOf(book.plays[0]!.tasks[0]!, { app: 'shop', pw: 'Sup3r-s3cret-pw', inventory_hostname: 'web1' }, { become: false }, {
      modules, secretVarNames: new Set(['pw']), searchPathFor: () => [], runtimeNames: new Set(),
    });
    expect(instance!.label).toBe('deploy shop with ******** (********)');
  });
});
