// The EJS subset this tool documents, compiled by our own compiler: tags, trimming, literals,
// and errors at the template's real line.
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { renderTemplateString } from '../../src/template/render.js';

const none = { secretVarNames: new Set<string>() };
const render = (source: string, vars: Record<string, unknown> = {}) => renderTemplateString(source, vars, { file: 't.ejs', line: 1 }, none).content;

function failure(source: string, vars: Record<string, unknown> = {}): TemplateError {
  try {
    renderTemplateString(source, vars, { file: 't.ejs', line: 1 }, none);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('EJS tags', () => {
  it.each([
    ['plain text', 'a "quoted" \\ line\n', {}, 'a "quoted" \\ line\n'],
    ['<%= and <%- write values as text', '<%= a %>|<%- a %>', { a: '<b>&' }, '<b>&|<b>&'],
    ['undefined and null write nothing', '[<%= u %>][<%= n %>]', { u: undefined, n: null }, '[][]'],
    ['a trailing semicolon in an output tag', '<%= a; %>', { a: 1 }, '1'],
    ['code tags', '<% for (const x of xs) { %><%= x %>,<% } %>', { xs: [1, 2] }, '1,2,'],
    ['comments write nothing', 'a<%# a comment %>b', {}, 'ab'],
    ['-%> drops the next line break', '<% if (true) { -%>\nyes\n<% } -%>\nend', {}, 'yes\nend'],
    ['<%_ and _%> drop spaces and tabs around the tag', 'a\n   <%_ if (true) { _%>  \nb\n  <%_ } _%>\n', {}, 'a\nb\n'],
    ['<%% writes a literal <%', '<%%= not a tag %>', {}, '<%= not a tag %>'],
    ['windows line breaks after -%>', '<% if (true) { -%>\r\nx<% } %>', {}, 'x'],
    ['a // comment in a code tag ends at the tag', "<% const y = 2 // two %>y=<%= y %>", {}, 'y=2'],
    ['var declared in a template', '<% var port = 8080 %><%= port %>', {}, '8080'],
    ['a local that shadows a variable', '<% var a = 5 %><%= a %>', { a: 1 }, '5'],
    ['template literals and nested braces', '<%= `${a}-${[1, 2].map((x) => ({ v: x })).length}` %>', { a: 'z' }, 'z-2'],
  ])('%s', (_name, source, vars, expected) => {
    expect(render(source, vars)).toBe(expected);
  });

  it('compiles each source once: a second host gets its own values', () => {
    const source = 'host=<%= inventory_hostname %>';
    expect(render(source, { inventory_hostname: 'web1' })).toBe('host=web1');
    expect(render(source, { inventory_hostname: 'web2' })).toBe('host=web2');
  });
});

describe('template errors are at the real line', () => {
  it('a syntax error on line 4', () => {
    const error = failure('a\nb\n<% const x = 1 %>\n<%= x + %>\n');
    expect(error.where?.line).toBe(4);
    expect(error.message).toMatch(/^template syntax error: Unexpected token/);
  });

  it('an undefined name after a multi-line code tag and text', () => {
    const error = failure('<%\n  const a = 1;\n  const b = 2;\n%>\ntext\n\n<%= nope %>');
    expect(error.message).toBe('undefined variable "nope"');
    expect(error.where?.line).toBe(7);
  });

  it('an undefined name after a // comment on an earlier line', () => {
    const error = failure('<% // note %>\nline 2\nline 3 <%= nope %>');
    expect(error.where?.line).toBe(3);
  });

  it('a runtime error inside a callback names the line of the callback', () => {
    const error = failure('a\n<% xs.forEach((x) => { %>\n<%= x.toFixed() %>\n<% }) %>', { xs: [null] });
    expect(error.message).toMatch(/^template error: TypeError: /);
    expect(error.where?.line).toBe(3);
  });

  it('a tag that is never closed', () => {
    const error = failure('a\n<%= x ');
    expect(error.message).toMatch(/never closed/);
  });

  it('import is refused before anything runs', () => {
    const error = failure('a\nb\n<% import("node:fs") %>');
    expect(error.message).toMatch(/"import" is not available/);
    expect(error.where?.line).toBe(3);
  });
});
