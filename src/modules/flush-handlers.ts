// flush_handlers: run the handlers notified so far at this point of the play (Ansible's
// `meta: flush_handlers`), e.g. restart a database on its new config before creating users in it.
// The executor recognises it by name; as a module it only validates.
import { ModuleArgs } from './args.js';
import { flushHandlersDoc } from './flush-handlers-doc.js';
import { docArgNames, type ModuleDefinition } from './types.js';

export const FLUSH_HANDLERS = 'flush_handlers';

export const flushHandlersModule: ModuleDefinition<null> = {
  name: FLUSH_HANDLERS,
  doc: flushHandlersDoc,
  summary: 'Run the handlers notified so far, here instead of at the end of the play.',
  validate(raw, where) {
    if (raw === null || raw === true || raw === undefined) return null;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw ModuleArgs.read(FLUSH_HANDLERS, {}, where, []).error(undefined, 'flush_handlers takes no arguments', 'write: - flush_handlers:');
    }
    // A mapping: every key is unknown (the doc declares none), refused with the usual message.
    ModuleArgs.read(FLUSH_HANDLERS, raw, where, docArgNames(flushHandlersDoc));
    return null;
  },
  resolve: () => null,
  queries: () => [],
  plan: () => ({ status: 'ok', reason: 'handlers flushed' }),
};
