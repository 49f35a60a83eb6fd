import type { ModuleDoc } from './types.js';

export const aptDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string or list of strings', required: true, description: 'Package names; NAME=VERSION pins one to an exact version.' },
    { name: 'version', type: 'string', description: 'The exact version of the one package in name (as `apt-cache policy` lists it); installs, upgrades or downgrades to it.' },
    { name: 'state', type: 'present | absent | latest', default: 'present', description: 'latest upgrades to the candidate version, which the plan shows.' },
    { name: 'update_cache', type: 'boolean', description: 'false: never run `apt-get update`; otherwise it runs before an install, only when something must be installed.' },
  ],
  example: '- name: nginx at the tested version\n  apt: { name: nginx, version: "1.22.1-9" }\n',
  notes: [
    'A pin is not an apt hold: an upgrade outside the tool may move the package; the next plan shows it.',
    'state: latest needs the host\'s package lists to be current; the candidate is what `apt-cache policy` says at probe time.',
  ],
};
