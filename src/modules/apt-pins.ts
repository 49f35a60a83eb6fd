// apt version pins: `name: nginx, version: "1.22.1-9"` or `name: nginx=1.22.1-9`, each package to
// exactly that version (installed, upgraded or downgraded to it).
import { isUnrendered, type ModuleArgs } from './args.js';

// Debian policy: lower case letters, digits, + - . ; an optional :arch qualifier.
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/;
// [epoch:]upstream[-revision]: digits, letters, . + ~ - (and : only after an epoch).
export const PACKAGE_VERSION = /^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$/;

export interface PackageSpec {
  name: string;
  /** The exact version wanted; absent: any version. */
  version?: string;
}

/** Names (with optional `=version`) and the `version` argument, as package specs. */
export function readPackageSpecs(args: ModuleArgs, names: string[], version: string | undefined): PackageSpec[] {
  if (version !== undefined && names.length !== 1) {
    throw args.error('version', '"version" pins one package; this task names several', 'write each pin in its name instead: name: [nginx=1.22.1-9, curl=7.88.1-10]');
  }
  return names.map((entry) => {
    // `<%= pkg %>` holds an "=" of its own: it is split once rendered, when validate() runs again.
    if (isUnrendered(entry)) return version === undefined ? { name: entry } : { name: entry, version };
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq);
    const pinned = eq === -1 ? version : entry.slice(eq + 1);
    if (eq !== -1 && version !== undefined) throw args.error('version', `"${entry}" already names a version; drop "version" or the "=${pinned}"`);
    if (!isUnrendered(name) && !PACKAGE_NAME.test(name)) {
      throw args.error('name', `"${name}" is not a Debian package name`, 'lower case letters, digits, + - . ; pin a version as name=VERSION or with version:');
    }
    if (pinned !== undefined && !isUnrendered(pinned) && !PACKAGE_VERSION.test(pinned)) {
      throw args.error(eq === -1 ? 'version' : 'name', `"${pinned}" is not a Debian version`, 'e.g. 1.22.1-9 or 1:2.4.1-1 (as `apt-cache policy NAME` lists them)');
    }
    return pinned === undefined ? { name } : { name, version: pinned };
  });
}
