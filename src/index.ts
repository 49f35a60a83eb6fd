// The package's public API, for authors of a project's own modules (README "Writing a module"):
// the module contract as types, and the runtime helpers built-in modules use. A project module is
// loaded by the tool itself, whose copy of these helpers it receives, so `instanceof` holds and
// errors it throws (ConfigError) are reported like the tool's own.
//
//   import type { ModuleDefinition } from 'foobar-provision';
//   import { ModuleArgs, docArgNames, shellQuote } from 'foobar-provision';

export type {
  AnyModule,
  ArgDoc,
  ArgsLocation,
  FileDiff,
  ModuleDefinition,
  ModuleDoc,
  PlanContext,
  ResolveContext,
  Step,
  StepResult,
  TaskPlan,
  ValidationCandidate,
} from './modules/types.js';
export { docArgNames } from './modules/types.js';
export { emptyFacts } from './facts/types.js';
export type { CommandOutput, FactQuery, FileFact, FileType, HostFacts, PackageFact, ServiceFact, SshConnectionFact, SystemFact } from './facts/types.js';
export type { SourceRef } from './errors.js';
export { ConfigError, UserInputError } from './errors.js';

// Arguments: read with the doc's names, typed getters whose errors point at the argument's line.
export { isUnrendered, ModuleArgs, plainPath } from './modules/args.js';
// Shell: every value that goes into a step's command is quoted.
export { shellJoin, shellQuote } from './shell/quote.js';
// Files: the atomic write (temp file beside the target, size and sha256 checked, renamed), and the
// whole plan of a file whose wanted content is known (what template and copy do).
export { DEFAULT_NEW_FILE_MODE, parentDir, writeFileStep, type WriteScriptOptions } from './modules/file-write-script.js';
export { fileWrite, fileWriteQueries, planFileWrite, readFileWriteArgs, type FileWrite, type FileWriteArgs } from './modules/file-write.js';
export { FILE_WRITE_ARG_DOCS } from './modules/file-write-doc.js';
export { formatSize, matchReason, metaChanges, metaCommands, withMeta, type WantedMeta } from './modules/file-meta.js';
