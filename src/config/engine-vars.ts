// Variable names the engine sets itself for every host. They win over every layer so templates
// can trust them; a variable of the same name from a file, --var or register would be silently
// ignored, so each of those refuses the name instead.
export const ENGINE_VAR_NAMES: readonly string[] = ['inventory_hostname', 'host_address', 'groups', 'hostvars'];

export function isEngineVarName(name: string): boolean {
  return ENGINE_VAR_NAMES.includes(name);
}

export const ENGINE_VAR_HINT = `${ENGINE_VAR_NAMES.join(', ')} are set by foobar-provision for every host; rename the variable`;
