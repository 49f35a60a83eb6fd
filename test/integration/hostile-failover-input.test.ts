// Bad input to playbooks/db-failover.yml is refused before anything is touched: db1, db2 and app1
// are the loopback sshd (no MariaDB there: a run that got past the input checks would fail on the
// helper instead, with another message). Plan and apply refuse the same way.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DIR, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PLAYBOOK = join(REPO, 'playbooks', 'db-failover.yml');
const SECRETS = ['--var', 'db_repl_password=unit-repl-pw-123', '--var', 'db_app_password=unit-app-pw-123'];

let sshd: TestSshd;
let project: string;
let marker: string;

function failover(mode: 'plan' | 'apply', extra: string[]): Promise<CliResult> {
  return runCli([mode, '-i', join(project, 'inv.yml'), '-p', PLAYBOOK, ...SECRETS, ...(mode === 'apply' ? ['--yes'] : []), ...extra], { cwd: REPO });
}

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-failover-input-'));
  marker = join(project, 'injected');
  const head = loopbackInventory(sshd).replace(/hosts:\n.*\n$/, '');
  const at = `{ address: 127.0.0.1, port: ${sshd.port} }`;
  await writeFile(join(project, 'inv.yml'), `${head}hosts:
  db1: ${at}
  db2: ${at}
  app1: ${at}
  web1: ${at}
vars:
  db_primary: db1
groups:
  database: { hosts: [db1, db2] }
  app: { hosts: [app1] }
  web: { hosts: [web1] }
`);
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

const cases: Array<{ name: string; args: string[]; says: RegExp }> = [
  { name: 'new_primary missing', args: [], says: /new_primary/ },
  { name: 'new_primary empty', args: ['--var', 'new_primary='], says: /new_primary/ },
  { name: 'new_primary not a database host', args: ['--var', 'new_primary=app1'], says: /new_primary must name a host of the database group \(db1, db2\)/ },
  { name: 'new_primary unknown', args: ['--var', 'new_primary=db9'], says: /new_primary must name a host of the database group/ },
  { name: 'new_primary with shell text', args: ['--var', `new_primary=db2; touch MARKER`], says: /new_primary must name a host of the database group/ },
  { name: 'new_primary with quotes', args: ['--var', `new_primary=db2"; touch MARKER; echo "`], says: /new_primary must name a host of the database group/ },
  { name: 'db_primary given', args: ['--var', 'new_primary=db2', '--var', 'db_primary=db1'], says: /db_primary is given on the command line/ },
  { name: 'force=yes', args: ['--var', 'new_primary=db2', '--var', 'force=yes'], says: /force must be true or false/ },
  { name: 'force=1', args: ['--var', 'new_primary=db2', '--var', 'force=1'], says: /force must be true or false/ },
  { name: '--limit leaves out the new primary', args: ['--var', 'new_primary=db2', '--limit', 'db1'], says: /--limit/ },
  { name: '--limit leaves out the app servers', args: ['--var', 'new_primary=db2', '--limit', 'database'], says: /--limit/ },
  { name: '--tags app (re-point the apps without promoting)', args: ['--var', 'new_primary=db2', '--tags', 'app'], says: /--tags/ },
  { name: '--skip-tags app', args: ['--var', 'new_primary=db2', '--skip-tags', 'app'], says: /--skip-tags/ },
];

describe('db-failover.yml refuses bad input with exit 2, touching nothing', () => {
  for (const mode of ['plan', 'apply'] as const) {
    for (const c of cases) {
      it(`${mode}: ${c.name}`, async () => {
        const args = c.args.map((a) => a.replace('MARKER', marker));
        const result = await failover(mode, args);
        expect(result.stderr + result.stdout).toMatch(c.says);
        expect(result.code).toBe(2);
        // Refused before connecting: no host line, no task result.
        expect(result.stdout).not.toMatch(/round trip/);
        expect(existsSync(marker)).toBe(false);
      });
    }
  }

  it('a replication password with quotes and backslashes is in no output, JSON, stream or history file, in any form (raw, JSON-escaped, option-file-escaped, quoted, base64)', async () => {
    const secret = 'rp"q\\uote$(id)-9876';
    const forms = [secret, JSON.stringify(secret).slice(1, -1), secret.replace(/[\\"]/g, (c) => `\\${c}`), `'${secret}'`, Buffer.from(secret).toString('base64')];
    const outputs: string[] = [];
    for (const extra of [['--json'], ['--json-stream'], []]) {
      for (const mode of ['plan', 'apply'] as const) {
        const r = await runCli([mode, '-i', join(project, 'inv.yml'), '-p', PLAYBOOK, '--var', `db_repl_password=${secret}`, '--var', 'db_app_password=unit-app-pw-123',
          '--var', 'new_primary=db2', ...(mode === 'apply' ? ['--yes'] : []), ...extra], { cwd: REPO });
        expect(r.code).toBe(1);
        outputs.push(r.stdout, r.stderr);
      }
    }
    const files = (d: string): string[] => (existsSync(d) ? readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)])) : []);
    const history = files(HISTORY_DIR);
    outputs.push(...history.map((f) => readFileSync(f, 'utf8')));
    for (const out of outputs) for (const form of forms) expect(out).not.toContain(form);
  });

  it('good input gets past the checks (the run goes on to the host, where the helper is missing)', async () => {
    const result = await failover('plan', ['--var', 'new_primary=db2', '--var', 'force=true']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/round trip/);
    expect(result.stdout).toContain('the new primary has every transaction of the old one');
  });
});
