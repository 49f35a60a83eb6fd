// Render throughput of templates and expressions (a measurement script, not a test):
//   npx tsx bench/template-throughput.ts
// Prints renders per second for a config template, a `when:` expression, a single-tag value over
// `hostvars` of 1000 hosts, and a role default built from other variables.
import { renderTemplateString, renderValue } from '../src/template/render.js';
import { evaluateExpression } from '../src/template/expression.js';

const markTemplates: ((values: Record<string, unknown>, whereOf: () => { file: string }) => void) | undefined =
  await import('../src/config/template-origin.js').then((m) => m.markTemplates, () => undefined);

const hosts = Array.from({ length: 1000 }, (_, i) => `web${i}`);
const hostvars = Object.fromEntries(hosts.map((h, i) => [h, { inventory_hostname: h, host_address: `10.0.${i >> 8}.${i & 255}`, role: 'web' }]));
const base: Record<string, unknown> = {
  inventory_hostname: 'web1', app_port: 8000, app_user: 'app', workers: 4,
  backends: hosts.slice(0, 20).map((h) => ({ host: h, port: 8000 })),
  groups: { web: hosts }, hostvars,
};
const role = { web_root: '/srv/<%= inventory_hostname %>/<%= app_user %>' };
markTemplates?.(role, () => ({ file: 'roles/web/defaults.yml' }));
const vars = { ...base, ...role };

const template = `# managed
user = <%= app_user %>
port = <%= app_port %>
workers = <%= workers %>
<% for (const b of backends) { -%>
server <%= b.host %>:<%= b.port %>;
<% } -%>
`;
const opts = { secretVarNames: new Set<string>() };
const where = { file: 'bench.ejs', line: 1 };

function measure(name: string, fn: () => unknown): void {
  for (let i = 0; i < 200; i++) fn();
  const start = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() - start < 1_000_000_000n) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name.padEnd(42)} ${Math.round(n / seconds).toString().padStart(8)} /s`);
}

measure('template file (20-line loop)', () => renderTemplateString(template, { ...vars }, where, opts));
measure('task argument "<%= app_port %>"', () => renderValue('<%= app_port %>', { ...vars }, where, opts));
measure('when: app_port > 1024 && workers > 2', () => evaluateExpression('app_port > 1024 && workers > 2', { ...vars }, where));
measure('single tag over hostvars of 1000 hosts', () => renderValue('<%= groups.web.map((h) => hostvars[h].host_address) %>', { ...vars }, where, opts));
measure('role default built from variables', () => renderTemplateString('<%= web_root %>', { ...vars }, where, opts));
