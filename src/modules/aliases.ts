// Names Ansible users type for modules we have: `systemd` is `service`; `shell` is `command` with
// its text run by /bin/sh -c (shell-command.ts).
import { serviceModule } from './service.js';
import type { AnyModule } from './types.js';

/** The same module under another name: same arguments, doc, plan and steps. */
export function aliasOf(module: AnyModule, name: string): AnyModule {
  return { ...module, name, summary: `Alias of ${module.name}: ${module.summary}` };
}

export const systemdModule: AnyModule = aliasOf(serviceModule, 'systemd');
