// Every module by the name a task uses: the built-ins here, a project's own added at start-up.
import { systemdModule } from './aliases.js';
import { aptRepositoryModule } from './apt-repository.js';
import { aptModule } from './apt.js';
import { authorizedKeyModule } from './authorized-key.js';
import { blockinfileModule } from './blockinfile.js';
import { certModule } from './cert.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { cronModule } from './cron.js';
import { fileModule } from './file.js';
import { flushHandlersModule } from './flush-handlers.js';
import { getUrlModule } from './get-url.js';
import { groupModule } from './group.js';
import { hostnameModule } from './hostname.js';
import { lineinfileModule } from './lineinfile.js';
import { mysqlDbModule } from './mysql-db.js';
import { mysqlReplicationModule } from './mysql-replication.js';
import { mysqlUserModule } from './mysql-user.js';
import { rebootModule } from './reboot.js';
import { serviceModule } from './service.js';
import { shellModule } from './shell-command.js';
import { sysctlModule } from './sysctl.js';
import { systemdTimerModule } from './systemd-timer.js';
import { systemdUnitModule } from './systemd-unit.js';
import { templateModule } from './template.js';
import type { AnyModule } from './types.js';
import { ufwModule } from './ufw.js';
import { unarchiveModule } from './unarchive.js';
import { userModule } from './user.js';
import { waitForModule } from './wait-for.js';

const all: AnyModule[] = [
  templateModule, copyModule, fileModule, commandModule, shellModule, serviceModule, systemdModule, aptModule,
  mysqlDbModule, mysqlUserModule, mysqlReplicationModule, ufwModule, flushHandlersModule, certModule,
  userModule, groupModule, authorizedKeyModule,
  lineinfileModule, blockinfileModule, sysctlModule, hostnameModule, waitForModule,
  getUrlModule, aptRepositoryModule, unarchiveModule,
  systemdUnitModule, cronModule, systemdTimerModule, rebootModule,
];

const registry = new Map(all.map((m) => [m.name, m]));
const names = [...registry.keys()].sort();

export const modules: ReadonlyMap<string, AnyModule> = registry;

/** Every module a task may use, sorted: the built-ins, then a project's own once loaded. */
export const knownModuleNames: readonly string[] = names;

/** The modules that come with the tool: a project module may not take one of these names. */
export const builtinModuleNames: ReadonlySet<string> = new Set(registry.keys());

/** Adds a project's own module (src/plugins/ loads and checks them at the start of a command). */
export function addModule(module: AnyModule): void {
  if (!registry.has(module.name)) names.push(module.name);
  registry.set(module.name, module);
  names.sort();
}
