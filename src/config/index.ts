// The config layer's public face.

export { loadInventory, parseInventory, resolveInventoryPath } from './inventory.js';
export { loadPlaybook, parsePlaybook, type PlaybookOptions } from './playbook.js';
export { parseSerialSize, type SerialStep } from './serial.js';
export { selectByTags, type TagSelection } from './tags.js';
export { TASK_KEYWORDS } from './task.js';
export { closestMatch, didYouMean, editDistance, listNames } from './suggest.js';
export { loadYamlFile, parseYaml, YamlMap, YamlNode, type TextTransform, type YamlEntry, type YamlKind } from './yaml.js';
export type * from './types.js';
