// EJS rendering with strict variables: errors name the template file and the line.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { markTemplates } from '../../src/config/template-origin.js';
import { renderTemplateFile, renderTemplateString, renderValue } from '../../src/template/render.js';

/** Variables as a play's `vars:` would give them: their strings were written as templates.
 *  (Plain objects are data: their strings are never rendered.) */
function written<T extends Record<string, unknown>>(values: T): T {
  markTemplates(values, () => ({ file: 'playbooks/site.yml', line: 3 }));
  return values;
}

const templates = fileURLToPath(new URL('../fixtures/run/templates/', import.meta.url));
const none = { secretVarNames: new Set<string>() };

function renderError(source: string, vars: Record<string, unknown>, where = { file: 'roles/web/templates/app.conf.ejs', line: 1 }): TemplateError {
  try {
    renderTemplateString(source, vars, where, none);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplateString', () => {
  it('renders defined variables, nested keys and loops', () => {
    const out = renderTemplateString(
      'port=<%= port %>\n<% for (const b of backends) { %>server <%= b.host %>:<%= b.port %>;\n<% } %>',
      { port: 8080, backends: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }] },
      { file: 't.ejs', line: 1 },
      none,
    );
    expect(out.content).toBe('port=8080\nserver a:1;\nserver b:2;\n');
    expect(out.usedSecrets).toBe(false);
  });

  it('an undefined top-level variable names the variable, the file and its line', () => {
    const error = renderError('line one\nline two\nlisten <%= http_port %>;\n', { port: 1 });
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.message).toBe('undefined variable "http_port"');
    expect(error.where).toEqual({ file: 'roles/web/templates/app.conf.ejs', line: 3 });
    expect(error.hint).toContain('define "http_port"');
    expect(error.hint).toContain('port');
    expect(error.describe()).toContain('roles/web/templates/app.conf.ejs:3: undefined variable "http_port"');
  });

  it('an undefined variable on the first line is line 1', () => {
    expect(renderError('<%= nope %>', {}).where?.line).toBe(1);
  });

  it('a template starting at a later line of a YAML file counts from that line', () => {
    // The string starts on line 20 of site.yml; the bad tag is on its 2nd line → line 21.
    const error = renderError('ok <%= a %>\nbad <%= missing_var %>', { a: 1 }, { file: 'playbooks/site.yml', line: 20 });
    expect(error.message).toBe('undefined variable "missing_var"');
    expect(error.where).toEqual({ file: 'playbooks/site.yml', line: 21 });
  });

  it('a missing nested key names the full path a.b and says the parent exists', () => {
    const error = renderError('x\n<%= a.b %>', { a: { c: 1 } });
    expect(error.message).toBe('undefined variable "a.b"');
    expect(error.where?.line).toBe(2);
    expect(error.hint).toBe('"a" is defined but has no key "b"');
  });

  it('a missing key deeper down names the whole path', () => {
    const error = renderError('<%= app.db.password %>', { app: { db: { user: 'u' } } });
    expect(error.message).toBe('undefined variable "app.db.password"');
  });

  // BUG (src/template/strict-scope.ts, strictObject): arrays are returned unwrapped, so objects
  // inside a list are not strict: a typo in `b.hots` renders "" instead of failing.
  it('a missing key of an object inside a list is an error too', () => {
    const error = renderError('<% for (const b of backends) { %>server <%= b.hots %>;\n<% } %>', { backends: [{ host: 'a' }] });
    expect(error.message).toContain('hots');
  });

  it('typeof guards on undefined names work', () => {
    const source = "<% if (typeof extra === 'undefined') { %>no extra<% } else { %><%= extra %><% } %>";
    expect(renderTemplateString(source, {}, { file: 't', line: 1 }, none).content).toBe('no extra');
    expect(renderTemplateString(source, { extra: 'given' }, { file: 't', line: 1 }, none).content).toBe('given');
  });

  it("'k' in obj tests keys without throwing", () => {
    const source = "<%= 'k' in obj ? 'has k' : 'no k' %>/<%= 'z' in obj ? 'has z' : 'no z' %>";
    expect(renderTemplateString(source, { obj: { k: 1 } }, { file: 't', line: 1 }, none).content).toBe('has k/no z');
  });

  it('usedSecrets is true only when a secret variable is read', () => {
    const options = { secretVarNames: new Set(['db_password']) };
    const vars = { db_password: 'hunter22', db_user: 'app' };
    expect(renderTemplateString('user=<%= db_user %>', vars, { file: 't', line: 1 }, options).usedSecrets).toBe(false);
    const used = renderTemplateString('user=<%= db_user %>\npass=<%= db_password %>', vars, { file: 't', line: 1 }, options);
    expect(used.usedSecrets).toBe(true);
    expect(used.content).toBe('user=app\npass=hunter22');
  });

  it('usedSecrets is tracked per render, not carried over', () => {
    const options = { secretVarNames: new Set(['s']) };
    expect(renderTemplateString('<%= s %>', { s: 'x', p: 1 }, { file: 't', line: 1 }, options).usedSecrets).toBe(true);
    expect(renderTemplateString('<%= p %>', { s: 'x', p: 1 }, { file: 't', line: 1 }, options).usedSecrets).toBe(false);
  });

  it('a syntax error is a TemplateError at the template file', () => {
    const error = renderError('<% if (x { %>', { x: 1 });
    // Item 15 of issue 10: a plain message at the real line (was "... in  while compiling ejs", line 1).
    expect(error.message).toBe("template syntax error: Unexpected token '{'");
    expect(error.where).toEqual({ file: 'roles/web/templates/app.conf.ejs', line: 1 });
  });

  it('a runtime error other than an undefined name is a TemplateError with its line', () => {
    const error = renderError('a\nb\n<%= n.toFixed() %>', { n: null });
    expect(error.message).toMatch(/^template error: /);
    expect(error.message).not.toContain('undefined variable');
    expect(error.where?.line).toBe(3);
  });
});

describe('renderTemplateFile', () => {
  it('renders a file', async () => {
    const out = await renderTemplateFile(join(templates, 'app.conf.ejs'), { inventory_hostname: 'web1', port: 81 }, none);
    expect(out.content).toBe('# managed by foobar-provision\nhost=web1\nport=81\n');
  });

  it('an undefined variable names the file and line', async () => {
    const file = join(templates, 'broken.ejs');
    const error = await renderTemplateFile(file, { x: 1 }, none).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toBe('undefined variable "not_defined_anywhere"');
    expect((error as TemplateError).where).toEqual({ file, line: 3 });
  });

  it('a missing file is a TemplateError naming it', async () => {
    const file = join(templates, 'does-not-exist.ejs');
    const error = await renderTemplateFile(file, {}, none).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toContain(file);
    expect((error as TemplateError).where).toEqual({ file });
  });
});

describe('values and variables made of templates', () => {
  const opts = { secretVarNames: new Set(['pw']) };
  it('writes values as they are: config files are not HTML', () => {
    expect(renderTemplateString('<%= v %>', { v: `a&b"c<d>'e` }, { file: 't.ejs' }, opts).content).toBe(`a&b"c<d>'e`);
  });

  it('renders a variable whose value is a template when it is read, with secrets tracked', () => {
    const vars = written({ groups: { lb: ['lb1', 'lb2'] }, master: '<%= groups.lb[0] %>', list: ['<%= master %>-x'], pw: 'hunter22', uses_pw: 'pw=<%= pw %>' });
    expect(renderTemplateString('<%= master %> <%= list[0] %>', vars, { file: 't.ejs' }, opts)).toEqual({ content: 'lb1 lb1-x', usedSecrets: false });
    expect(renderTemplateString('<%= uses_pw %>', vars, { file: 't.ejs' }, opts).usedSecrets).toBe(true);
  });

  it('the same strings in plain variables (inventory, --var, a host) are data, written as they are', () => {
    const vars = { master: '<%= groups.lb[0] %>', list: ['<%= master %>-x'] };
    expect(renderTemplateString('<%= master %> <%= list[0] %>', vars, { file: 't.ejs' }, opts).content).toBe('<%= groups.lb[0] %> <%= master %>-x');
  });

  it('a variable that refers to itself is an error, not a hang', () => {
    expect(() => renderTemplateString('<%= loop %>', written({ loop: '<%= loop %>' }), { file: 't.ejs' }, opts)).toThrow(/refers to itself/);
  });
});

describe('renderValue', () => {
  const opts = { secretVarNames: new Set<string>() };
  it('a single tag keeps the type of its value, also through variables made of templates', () => {
    const vars = written({ hosts: ['a', 'b'], addrs: '<%= hosts.map((h) => h + ".lan") %>', rule: { from: '<%= addrs %>' } });
    expect(renderValue('<%= addrs %>', vars, { file: 't' }, opts).value).toEqual(['a.lan', 'b.lan']);
    expect(renderValue('<%= rule.from %>', vars, { file: 't' }, opts).value).toEqual(['a.lan', 'b.lan']);
    expect(renderValue('x-<%= hosts[0] %>', vars, { file: 't' }, opts).value).toBe('x-a');
  });

  it('a single-tag variable that refers to itself is an error', () => {
    expect(() => renderValue('<%= me %>', written({ me: '<%= me %>' }), { file: 't' }, opts)).toThrow(/refers to itself/);
  });
});
