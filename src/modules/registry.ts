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
import { rebootModule } from './reboot.js';
import { ufwModule } from './ufw.js';
import { flushHandlersModule } from './flush-handlers.js';

const all: AnyModule[] = [templateModule, copyModule, fileModule, commandModule, serviceModule, aptModule, mysqlDbModule, mysqlUserModule, mysqlReplicationModule, ufwModule, flushHandlersModule, certModule, rebootModule];

export const modules: ReadonlyMap<string, AnyModule> = new Map(all.map((m) => [m.name, m]));

export const knownModuleNames: readonly string[] = [...modules.keys()].sort();
