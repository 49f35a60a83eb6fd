// user, group and authorized_key planned from the real output of their fact queries on a lab host
// (test/fixtures/facts/accounts-app2.json: through sudo, and as the login user without it).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyFacts, type CommandOutput, type HostFacts } from '../../src/facts/types.js';
import { GROUPS_QUERY_ID } from '../../src/modules/account-facts.js';
import { authorizedKeyModule } from '../../src/modules/authorized-key.js';
import { groupModule } from '../../src/modules/group.js';
import type { ModuleDefinition } from '../../src/modules/types.js';
import { userModule } from '../../src/modules/user.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

const captured = JSON.parse(readFileSync(new URL('../fixtures/facts/accounts-app2.json', import.meta.url), 'utf8')) as {
  root: Record<string, CommandOutput>;
  login: Record<string, CommandOutput>;
  groups: string;
};
const LAB_KEY_FILE = captured.root['accounts:keys:deploy:~']!.output;
const LAB_KEY = Buffer.from(/content (\S+)/.exec(LAB_KEY_FILE)![1]!, 'base64').toString().trim();
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHmXafnpB3hP0JWcgIDyVNFr4dzhfmdr+ScfYEl74et alice@example';

function hostFacts(as: 'root' | 'login'): HostFacts {
  const facts = emptyFacts();
  for (const [id, out] of Object.entries(captured[as])) facts.outputs.set(id, out);
  facts.outputs.set(GROUPS_QUERY_ID, { code: 0, output: captured.groups });
  return facts;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function plan(module: ModuleDefinition<any>, raw: Record<string, unknown>, as: 'root' | 'login' = 'root') {
  const args = module.validate(raw, where(Object.keys(raw)));
  // The queries the module asks are exactly those captured (or the shared groups query).
  for (const q of module.queries(args)) if (q.kind === 'output' && q.id !== GROUPS_QUERY_ID && !(q.id in captured[as])) throw new Error(`not captured: ${q.id}`);
  return module.plan(args, hostFacts(as), ctx);
}

describe('captured on app2', () => {
  it('user: deploy as the lab made it is ok; a new shell and groups are changes', () => {
    expect(plan(userModule, { name: 'deploy', uid: 1000, group: 'deploy', shell: '/bin/bash' })).toEqual({
      status: 'ok',
      reason: 'user deploy exists; uid 1000, group deploy, shell match',
    });
    expect(plan(userModule, { name: 'deploy', shell: '/bin/sh', groups: 'adm' })).toMatchObject({ summary: 'update user deploy: groups +adm, shell /bin/bash -> /bin/sh' });
    expect(plan(userModule, { name: 'nosuchuser', groups: ['foobar-tls'] })).toMatchObject({ status: 'changed', summary: 'create user nosuchuser (groups foobar-tls, home /home/nosuchuser)' });
  });

  it('user: the hash differs and the account is locked (Debian\'s "!" for a user without password)', () => {
    expect(plan(userModule, { name: 'deploy', password: '$6$x$y' })).toMatchObject({ summary: 'update user deploy: password changes' });
    expect(plan(userModule, { name: 'deploy', lock: true })).toMatchObject({ status: 'ok' });
    // Without sudo the shadow cannot be read: the task says so instead of guessing.
    expect(plan(userModule, { name: 'deploy', lock: true }, 'login')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/needs root/) });
  });

  it('group: the lab\'s groups', () => {
    expect(plan(groupModule, { name: 'foobar-tls', gid: 997 })).toEqual({ status: 'ok', reason: 'group foobar-tls exists with gid 997' });
    expect(plan(groupModule, { name: 'fbpops', gid: 997 })).toEqual({ status: 'failed', reason: "gid 997 is already group foobar-tls's" });
  });

  it('authorized_key: the lab key is there; exclusive with another key shows both lines', () => {
    expect(plan(authorizedKeyModule, { user: 'deploy', key: LAB_KEY })).toEqual({
      status: 'ok',
      reason: '1 key present in /home/deploy/.ssh/authorized_keys; mode 0600 and owner deploy:deploy match',
    });
    const p = plan(authorizedKeyModule, { user: 'deploy', key: OTHER_KEY, exclusive: true });
    expect(p).toMatchObject({ status: 'changed', summary: 'update /home/deploy/.ssh/authorized_keys: +1 key (ssh-ed25519 alice@example), -1 key (ssh-ed25519 foobar-provision-lab)' });
    expect(p.status === 'changed' && p.diff).toMatchObject({ before: `${LAB_KEY}\n`, after: `${OTHER_KEY}\n` });
    expect(plan(authorizedKeyModule, { user: 'nosuchuser', key: LAB_KEY })).toMatchObject({ status: 'failed', reason: 'user nosuchuser does not exist; create it first with a user task' });
  });

  it('authorized_key: root\'s file read without sudo is unreadable, and the task says become', () => {
    expect(plan(authorizedKeyModule, { user: 'deploy', key: LAB_KEY, path: '/root/.ssh/authorized_keys' }, 'login')).toEqual({
      status: 'failed',
      reason: 'cannot read /root/.ssh: give the task become: true',
    });
    // A path of one's own: its directory is not made the user's unless manage_dir says so.
    expect(plan(authorizedKeyModule, { user: 'deploy', key: LAB_KEY, path: '/root/.ssh/authorized_keys' })).toMatchObject({
      status: 'changed',
      summary: 'owner root -> deploy, group root -> deploy on /root/.ssh/authorized_keys',
    });
    expect(plan(authorizedKeyModule, { user: 'deploy', key: LAB_KEY, path: '/root/.ssh/authorized_keys', manage_dir: true })).toMatchObject({
      summary: 'owner root -> deploy, group root -> deploy on /root/.ssh; owner root -> deploy, group root -> deploy on /root/.ssh/authorized_keys',
    });
  });
});
