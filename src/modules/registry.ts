// Every module by the name a task uses.
import { aptModule } from './apt.js';
import { certModule } from './cert.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { fileModule } from './file.js';
import { mysqlDbModule } from './mysql-db.js';
import { mysqlReplicationModule } from './mysql-replication.js';
import { mysqlUserModule } from './mysql-user.js';
import { serviceModule } from './service.js';
import { templateModule } from './template.js';
import type { AnyModule } from './types.js';
import { ufwModule } from './ufw.js';
import { flushHandlersModule } from './flush-handlers.js';
import { systemdModule } from './aliases.js';
import { cronModule } from './cron.js';
import { shellModule } from './shell-command.js';
import { systemdTimerModule } from './systemd-timer.js';
import { systemdUnitModule } from './systemd-unit.js';

const all: AnyModule[] = [templateModule, copyModule, fileModule, commandModule, serviceModule, aptModule, mysqlDbModule, mysqlUserModule, mysqlReplicationModule, ufwModule, flushHandlersModule, certModule, systemdUnitModule, systemdModule, shellModule, cronModule, systemdTimerModule];

export const modules: ReadonlyMap<string, AnyModule> = new Map(all.map((m) => [m.name, m]));

export const knownModuleNames: readonly string[] = [...modules.keys()].sort();
