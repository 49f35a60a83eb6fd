// (Kept in config/: it records what the playbook loader read; template/ only looks it up.)
// Which variable values are templates. Only strings written in playbooks and roles (play vars,
// role defaults and role vars) are; everything else (inventory variables, the vault, --var,
// registered results, anything a host sent) is data and is never rendered.
//
// Values stay plain strings so that no other code has to know about templates. Their origin is
// kept beside them: a WeakMap from each container (object or list) loaded from a playbook to the
// keys whose value is template text, and, on a merged set of variables (a new object built from
// layers), a symbol-keyed entry listing its top-level template slots. That entry is enumerable so
// that `{ ...vars, item }` keeps it; a slot only counts while it still holds the same text, so a
// later layer (a --var, a registered result, `item`) of the same name is data again.
import type { SourceRef } from '../errors.js';

export interface TemplateSlot {
  text: string;
  where: SourceRef;
}

const nested = new WeakMap<object, Map<string, TemplateSlot>>();
export const TOP_LEVEL_TEMPLATES: unique symbol = Symbol('foobar.templates');

type SlotMap = Map<string, TemplateSlot>;

const holdsTemplate = (value: unknown): value is string => typeof value === 'string' && value.includes('<%');

/** Records every template string inside `values` (loaded from a playbook or role file). */
export function markTemplates(values: Record<string, unknown>, whereOf: (key: string) => SourceRef): void {
  for (const [key, value] of Object.entries(values)) visit(values, key, value, whereOf(key));
}

function visit(container: object, key: string, value: unknown, where: SourceRef): void {
  if (holdsTemplate(value)) {
    let slots = nested.get(container);
    if (!slots) nested.set(container, (slots = new Map()));
    slots.set(key, { text: value, where });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => visit(value, String(index), item, where));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) visit(value, k, v, where);
  }
}

/** The template held at `container[key]`, if that value was written as a template. */
export function templateSlot(container: object, key: string, value: unknown): TemplateSlot | undefined {
  if (typeof value !== 'string') return undefined;
  const slot = nested.get(container)?.get(key) ?? (container as { [TOP_LEVEL_TEMPLATES]?: SlotMap })[TOP_LEVEL_TEMPLATES]?.get(key);
  return slot && slot.text === value ? slot : undefined;
}

/** The template slots a container's own keys hold, if any. */
function slotsOf(container: object): SlotMap | undefined {
  return nested.get(container) ?? (Object.prototype.hasOwnProperty.call(container, TOP_LEVEL_TEMPLATES) ? (container as { [TOP_LEVEL_TEMPLATES]?: SlotMap })[TOP_LEVEL_TEMPLATES] : undefined);
}

/** Merges layers of variables, later ones winning per top-level key, keeping which of the
 *  winning values are templates. Layers without templates (the inventory's) merge as plainly
 *  as Object.assign: building 100k hosts' variables must stay cheap. */
export function mergeLayers(layers: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = Object.assign({}, ...layers);
  delete (merged as { [TOP_LEVEL_TEMPLATES]?: SlotMap })[TOP_LEVEL_TEMPLATES];
  let slots: SlotMap | undefined;
  layers.forEach((layer, index) => {
    const layerSlots = slotsOf(layer);
    if (!layerSlots) return;
    for (const key of layerSlots.keys()) {
      const wins = !layers.slice(index + 1).some((later) => Object.prototype.hasOwnProperty.call(later, key));
      const slot = wins ? templateSlot(layer, key, layer[key]) : undefined;
      if (slot) (slots ??= new Map()).set(key, slot);
    }
  });
  if (slots) Object.defineProperty(merged, TOP_LEVEL_TEMPLATES, { value: slots, enumerable: true, writable: false, configurable: true });
  return merged;
}
