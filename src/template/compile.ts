// EJS (the subset this tool documents) to JavaScript source for the template realm.
// Tags: `<%= x %>` and `<%- x %>` write x as text (no HTML escaping; undefined and null write
// nothing), `<% code %>` runs code, `<%# comment %>`, `<%%` writes a literal `<%` (and `%%>` a
// literal `%>`), `-%>` drops the line break after the tag, `<%_` / `_%>` also drop the spaces and
// tabs before / after the tag. The generated source keeps the template's line numbers: line N of
// the source is line N of the template, so errors point at the template's real line.

const TOKEN = /(<%%|%%>|<%=|<%-|<%_|<%#|<%|%>|-%>|_%>)/;

type Mode = 'code' | 'output' | 'comment' | 'literal' | null;

export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
  constructor(
    message: string,
    /** 1-based line inside the template. */
    readonly line: number,
  ) {
    super(message);
  }
}

// Line breaks as V8 counts them (so positions in errors match).
const countLines = (text: string): number => text.match(/\r\n|[\n\r\u2028\u2029]/g)?.length ?? 0;

// `import(...)` and `import.meta` would reach Node's module loader, whose errors come from the
// controller's realm: refuse the keyword anywhere in template code (a property named import,
// `x.import`, is fine).
const IMPORT = /(^|[^.\w$])import\b/;

// `async` functions (and `await`) would queue code that runs after the render has returned:
// templates are synchronous.
const ASYNC = /(^|[^.\w$])(async|await)\b/;

// What lets template code run without end, or for minutes: a loop statement; recursion that
// catches its own stack overflow (plain recursion overflows quickly); a regular expression (a
// backtracking pattern over a host's text), made by a literal, RegExp, or a string given to
// match/matchAll/search. Code holding one of these runs under a time limit, which costs a
// watchdog thread per render, so code without any is not charged for it.
const MAY_RUN_LONG = /(^|[^.\w$])(for|while|do|catch|RegExp)\b|\/|\.\s*(match|matchAll|search)\b/;

/** What the compiler learnt about the code while building the script. */
export interface ScriptInfo {
  /** The code may run long (maybe a false alarm, e.g. a keyword inside a string: then it
   *  only costs time). */
  mayLoop: boolean;
}

function checkCode(code: string, line: number, info?: ScriptInfo): void {
  if (info && MAY_RUN_LONG.test(code)) info.mayLoop = true;
  for (const [pattern, what] of [[IMPORT, '"import" is'], [ASYNC, 'asynchronous code (async, await) is']] as const) {
    const match = pattern.exec(code);
    if (match) {
      const at = line + countLines(code.slice(0, match.index + match[1]!.length));
      throw new TemplateSyntaxError(`${what} not available in templates and expressions`, at);
    }
  }
}


// A `//` comment on the last line of a code chunk would swallow what follows on that line.
const endsInLineComment = (code: string): boolean => code.lastIndexOf('//') > code.lastIndexOf('\n');

/** Builds the body of the template function from EJS source. */
export function templateToScript(source: string, info?: ScriptInfo): string {
  const slurped = source.replace(/[ \t]*<%_/g, '<%_').replace(/_%>[ \t]*/g, '_%>');
  const parts = slurped.split(TOKEN);
  let out = '(function (__fp_scope, __fp_text) { with (__fp_scope) { let __fp_out = "";';
  let mode: Mode = null;
  let trimNext = false;
  let line = 1;
  // Extra line breaks emitted (after a `//` comment) that the next text line break pays back.
  let debt = 0;

  const emitText = (text: string) => {
    if (trimNext) {
      text = text.replace(/^(?:\r\n|\r|\n)/, '');
      trimNext = false;
    }
    if (!text) return;
    const breaks = countLines(text);
    out += ` __fp_out += ${JSON.stringify(text)};`;
    const paid = Math.min(debt, breaks);
    debt -= paid;
    out += '\n'.repeat(breaks - paid);
    line += breaks;
  };
  const emitCode = (code: string, asOutput: boolean) => {
    checkCode(code, line, info);
    const body = asOutput ? code.replace(/;\s*$/, '') : code;
    const close = endsInLineComment(body) ? '\n' : '';
    if (close) debt += 1;
    out += asOutput ? ` __fp_out += __fp_text(${body}${close});` : ` ${body}${close};`;
    line += countLines(code);
  };

  for (const part of parts) {
    if (part === '') continue;
    switch (part) {
      case '<%':
      case '<%_':
        mode = 'code';
        continue;
      case '<%=':
      case '<%-':
        mode = 'output';
        continue;
      case '<%#':
        mode = 'comment';
        continue;
      case '<%%':
        mode = 'literal';
        emitText('<%');
        continue;
      case '%%>':
        mode = 'literal';
        emitText('%>');
        continue;
      case '%>':
      case '-%>':
      case '_%>':
        if (mode === 'literal') emitText(part);
        else if (mode === null) {
          emitText(part);
          continue;
        }
        mode = null;
        trimNext = part !== '%>';
        continue;
      default:
        break;
    }
    if (mode === 'code') emitCode(part, false);
    else if (mode === 'output') emitCode(part, true);
    else if (mode === 'comment') {
      // A comment writes nothing, but its line breaks still count.
      out += '\n'.repeat(countLines(part));
      line += countLines(part);
    } else emitText(part);
  }
  if (mode === 'code' || mode === 'output' || mode === 'comment') {
    throw new TemplateSyntaxError('a tag opened with "<%" is never closed with "%>"', line);
  }
  return `${out} return __fp_out; } })`;
}

/** Builds the function for an expression (`when:`, `changed_when:`, a loop, a single tag). */
export function expressionToScript(expression: string, info?: ScriptInfo): string {
  checkCode(expression, 1, info);
  return `(function (__fp_scope, __fp_text) { with (__fp_scope) { return (${expression}\n); } })`;
}
