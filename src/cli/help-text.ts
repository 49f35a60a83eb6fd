// Text of `--help` beyond the option list: exit codes and examples for each command.
import { EXIT } from './exit-codes.js';

export const EXIT_CODES_HELP = [
  'Exit codes:',
  `  ${EXIT.ok}    success (plan: also with changes pending, unless --exit-code)`,
  `  ${EXIT.hostFailed}    a host failed, was unreachable, was locked, drifted since a saved plan, or could not be checked`,
  `  ${EXIT.badInput}    bad input (options, YAML, templates, --limit, key files): no host touched`,
  `  ${EXIT.changesPending}    plan --exit-code: the run succeeded and changes are pending`,
  `  ${EXIT.internal}    the tool or its environment failed (lab preflight, internal error)`,
  `  ${EXIT.interrupted}  interrupted (Ctrl-C, SIGTERM, SIGHUP)`,
].join('\n');

/** [command line, what it does], shown under "Examples:" of each command's help. */
export const EXAMPLES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  main: [
    ['$0 plan -i prod', 'what would change (inventory/prod.yml)'],
    ['$0 apply -i prod -l web1', 'make the changes on one host'],
    ['$0 plan --help', 'the options of one command'],
  ],
  plan: [
    ['$0 plan -i prod', 'diffs for every host; changes nothing'],
    ["$0 plan -l 'web*,!web2' -t nginx", 'only some hosts and tasks'],
    ['$0 plan --exit-code --json', 'CI: exit 3 when changes are pending'],
    ['$0 plan -i prod --out web.plan', 'save the plan; apply web.plan applies exactly it'],
  ],
  apply: [
    ['$0 apply -i prod', 'make the changes on every host'],
    ['$0 apply web.plan', 'apply a saved plan exactly, or refuse'],
    ['$0 apply -p playbooks/rolling-upgrade.yml', 'another playbook'],
    ['$0 apply -l db -e mysql_port=3307 -f 4', 'one group, a variable, 4 hosts at once'],
    ['$0 apply -i prod --json-stream', 'CI/dashboards: one JSON event per line as the run goes'],
    ['$0 apply -i prod --shard 2/4 --json > shard-2.json', 'controller 2 of 4; then: $0 report merge shard-*.json'],
  ],
  validate: [
    ['$0 validate -i prod', 'every problem, every host; no connection'],
    ['$0 validate -l web1 --json', 'one host, as JSON'],
  ],
  inventory: [
    ['$0 inventory -i prod', 'hosts, groups and variables, secrets masked'],
    ['$0 inventory -i prod --graph', 'the group tree'],
    ['$0 inventory --host web1 --json', "one host's variables as JSON"],
  ],
  lab: [
    ['$0 lab up', 'build the image if needed, boot every host'],
    ['$0 lab status', 'which hosts are up, SSH and systemd state'],
    ['$0 lab reset web1', 'put web1 back to the pristine image'],
    ['$0 lab stop db1 --hard', 'cut db1\'s power (its disk stays; `lab up db1` boots it)'],
  ],
  vagrant: [
    ['$0 vagrant box', 'start libvirt if needed, build the local box, probe KVM'],
    ['$0 vagrant up lb1 web1 app1 db1', 'boot those VMs and write their known_hosts'],
    ['$0 vagrant known-hosts', 'known_hosts from the VMs\' serial consoles (after `vagrant up`)'],
    ['$0 vagrant destroy', 'every VM, volume and network we made, also after an interrupted run'],
  ],
  vault: [
    ['$0 vault encrypt prod.vault.yml', 'encrypt a vars file in place'],
    ['$0 vault edit prod.vault.yml', 'edit it in $EDITOR, then re-encrypt'],
    ['$0 vault view prod.vault.yml', 'print the plaintext'],
  ],
};
