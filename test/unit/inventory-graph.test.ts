import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { UserInputError } from '../../src/errors.js';
import { buildInventory } from '../../src/inventory/index.js';
import { inventoryGraph } from '../../src/inventory/graph.js';
import { thrown } from '../helpers/errors.js';

const inventory = buildInventory(
  parseInventory(
    [
      'hosts:',
      '  lb1: { address: 10.0.0.1 }',
      '  web1: { address: 10.0.0.2 }',
      '  web2: { address: 10.0.0.3 }',
      '  db1: { address: 10.0.0.4 }',
      '  spare: { address: 10.0.0.5 }',
      'groups:',
      '  web:',
      '    hosts: [web1, web2]',
      '  lb:',
      '    hosts: [lb1]',
      '  frontend:',
      '    children: [lb, web]',
      '  db:',
      '    hosts: [db1]',
      '  edge:',
      '    hosts: [lb1]',
      '    children: [lb]',
      '',
    ].join('\n'),
    'inv.yml',
  ),
  { defaultUser: 'root' },
);

describe('inventoryGraph', () => {
  it('draws the group tree from @all, child groups before hosts, hosts in no group under @ungrouped', () => {
    expect(inventoryGraph(inventory)).toEqual([
      '@all:',
      '  |--@frontend:',
      '  |  |--@lb:',
      '  |  |  |--lb1',
      '  |  |--@web:',
      '  |  |  |--web1',
      '  |  |  |--web2',
      '  |--@db:',
      '  |  |--db1',
      '  |--@edge:',
      '  |  |--@lb:',
      '  |  |  |--lb1',
      '  |  |--lb1',
      '  |--@ungrouped:',
      '  |  |--spare',
    ]);
  });

  it('starts at a named group', () => {
    expect(inventoryGraph(inventory, 'frontend')).toEqual(['@frontend:', '  |--@lb:', '  |  |--lb1', '  |--@web:', '  |  |--web1', '  |  |--web2']);
    expect(inventoryGraph(inventory, 'ungrouped')).toEqual(['@ungrouped:', '  |--spare']);
  });

  it('an unknown group is bad input that names the closest one', () => {
    const error = thrown(UserInputError, () => inventoryGraph(inventory, 'fronted'));
    expect(error.message).toContain('no group named "fronted"');
    expect(error.message).toContain('did you mean "frontend"');
  });

  it('an inventory whose every host has a group shows no @ungrouped', () => {
    const all = buildInventory(parseInventory('hosts:\n  a: { address: 10.0.0.1 }\ngroups:\n  g:\n    hosts: [a]\n', 'i.yml'), { defaultUser: 'root' });
    expect(inventoryGraph(all)).toEqual(['@all:', '  |--@g:', '  |  |--a']);
  });
});
