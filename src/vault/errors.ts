// Vault problems are the operator's to fix (password, file), so they are input errors: exit 2.
import { UserInputError, type SourceRef } from '../errors.js';

export class VaultError extends UserInputError {
  override name = 'VaultError';
  constructor(message: string, where?: SourceRef, hint?: string) {
    super(message, where, hint);
  }
}
