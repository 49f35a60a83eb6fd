// Names Ansible users type for modules we have: `systemd` is `service`; `shell` is `command` with
// its text run by /bin/sh -c (shell-command.ts).
import { ConfigError } from '../errors.js';
import { serviceModule } from './service.js';
import type { AnyModule } from './types.js';

/** The same module under another name: same arguments, doc, plan and steps; its argument errors
 *  name the alias the task was written with. */
export function aliasOf(module: AnyModule, name: string): AnyModule {
  return {
    ...module,
    name,
    summary: `Alias of ${module.name}: ${module.summary}`,
    ...(module.doc ? { doc: { ...module.doc, example: renameExampleModule(module.doc.example, module.name, name) } } : {}),
    validate: (raw, where) => underName(name, module.name, () => module.validate(raw, where)),
  };
}

/** The doc's example written with the alias, so `doc systemd` shows a task an operator can paste. */
function renameExampleModule(example: string, original: string, name: string): string {
  return example.replace(new RegExp(`^(\\s*(?:- )?)${original}:`, 'gm'), `$1${name}:`);
}

/** Runs `validate`, its errors naming the module `name` instead of `original`. */
export function underName<T>(name: string, original: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    const prefix = `${original}: `;
    if (!(error instanceof ConfigError) || !error.message.startsWith(prefix)) throw error;
    throw new ConfigError(`${name}: ${error.message.slice(prefix.length)}`, error.where, error.hint);
  }
}

export const systemdModule: AnyModule = aliasOf(serviceModule, 'systemd');
