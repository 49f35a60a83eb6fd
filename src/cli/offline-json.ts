// The one JSON document of an offline command (validate, --list-hosts/--list-tasks). Under
// --json it is printed for people too (indented); under --json-stream it is one event on one
// line, as every stream line is, so a stream reader parses it like any other event.
import { FORMAT_VERSION, jsonLine } from '../report/json-format.js';
import { jsonForTerminal } from '../text/terminal-text.js';

export function offlineJson(event: 'validate' | 'list', document: Record<string, unknown>, stream: boolean): string {
  if (!stream) return `${jsonForTerminal({ formatVersion: FORMAT_VERSION, ...document })}\n`;
  return `${jsonLine({ formatVersion: FORMAT_VERSION, event, time: new Date().toISOString(), ...document })}\n`;
}
