// One line of a host's history file: written by the run (run/history-record.ts), read back and
// shown by `history` (report/history-table.ts). One shape for both sides.
export interface HistoryEntry {
  run: string;
  time: string;
  host: string;
  operator: string;
  version: string;
  playbook: string;
  commit?: string;
  dirty?: boolean;
  tasks: string[];
  moreTasks?: number;
  outcome: 'changed' | 'failed' | 'interrupted' | 'unreachable' | 'not-reached';
  failed?: { task: string; reason: string };
}
