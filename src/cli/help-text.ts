// Text of `--help` beyond the option list: exit codes and examples for each command.
import { EXIT } from './exit-codes.js';

export const EXIT_CODES_HELP = [
  'Exit codes:',
  `  ${EXIT.ok}    success (for plan: also when changes are pending, unless --exit-code)`,
  `  ${EXIT.hostFailed}    a host failed, was unreachable, or could not be checked`,
  `  ${EXIT.badInput}    bad input (command line, YAML, template, --limit, key file): no host was touched`,
  `  ${EXIT.changesPending}    plan --exit-code: the run succeeded and changes are pending`,
  `  ${EXIT.internal}    the tool or its environment failed (lab preflight, internal error)`,
  `  ${EXIT.interrupted}  interrupted (Ctrl-C, SIGTERM)`,
].join('\n');

/** [command line, what it does], shown under "Examples:" of each command's help. */
export const EXAMPLES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  main: [
    ['$0 plan -i prod', 'what would change on every host of inventory/prod.yml'],
    ['$0 apply -i prod --limit web1', 'make the changes on one host'],
    ['$0 plan --help', 'the options of one command'],
  ],
  plan: [
    ['$0 plan -i prod', 'diffs for every host; changes nothing'],
    ['$0 plan -i prod --limit "web*,!web2" --tags nginx', 'only some hosts and tasks'],
    ['$0 plan -i prod --exit-code --json', 'for CI: exit 3 when changes are pending, one JSON report'],
  ],
  apply: [
    ['$0 apply -i prod', 'make the changes on every host'],
    ['$0 apply -i prod -p playbooks/rolling-upgrade.yml', 'another playbook (serial, drain, health gate)'],
    ['$0 apply -i prod -l db --var mysql_port=3307 -f 4', 'one group, a variable set, 4 hosts at a time'],
  ],
  inventory: [
    ['$0 inventory -i prod', 'hosts, groups and merged variables, secrets masked'],
    ['$0 inventory -i prod --host web1 --json', "one host's variables as JSON"],
  ],
  lab: [
    ['$0 lab up', 'build the image if needed and boot every host of inventory/lab.yml'],
    ['$0 lab status', 'which hosts are up, with SSH and systemd state'],
    ['$0 lab reset web1', 'put web1 back to the pristine image'],
  ],
  vault: [
    ['$0 vault encrypt inventory/prod/group_vars/all.vault.yml', 'encrypt a vars file in place'],
    ['$0 vault edit inventory/prod/group_vars/all.vault.yml', 'edit it decrypted in $EDITOR, then re-encrypt'],
    ['$0 vault view inventory/prod/group_vars/all.vault.yml', 'print the plaintext'],
  ],
};
