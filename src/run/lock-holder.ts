// The holder record a run writes beside the run lock on each host, and the sentence another run
// shows when it finds the host locked: "web1 is locked by alice@ops1 (pid 4242,
// playbooks/site.yml, since 10:02 UTC)". The record comes back from the host: it is untrusted
// text, read with a size cap, and shown with its control characters replaced.

/** Marks a record in this format; an older run's free-text record is shown as it is. */
const RECORD_TAG = 'fbp1';

export interface HolderFields {
  /** `user@controller` */
  who: string;
  pid: number;
  startedAt: Date;
  playbook: string;
}

/** One line, no control characters: "fbp1 alice@ops1 4242 2026-12-03T10:02:11.000Z playbooks/site.yml". */
export function holderRecord(fields: HolderFields): string {
  const word = (s: string) => s.replace(/[\s\u0000-\u001f\u007f]+/g, '_') || '?';
  const playbook = fields.playbook.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return `${RECORD_TAG} ${word(fields.who)} ${fields.pid} ${fields.startedAt.toISOString()} ${playbook}`;
}

/** The record's fields, or undefined for a record in another format (an older run's, or garbage). */
export function parseHolderRecord(line: string): HolderFields | undefined {
  const match = /^fbp1 (\S+) (\d{1,10}) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/.exec(line);
  if (!match) return undefined;
  const startedAt = new Date(match[3]!);
  if (Number.isNaN(startedAt.getTime())) return undefined;
  return { who: match[1]!, pid: Number(match[2]), startedAt, playbook: match[4]! };
}

/** "10:02 UTC" today, "2026-12-02 10:02 UTC" on another day. */
export function sinceText(startedAt: Date, now = new Date()): string {
  const iso = startedAt.toISOString();
  const time = `${iso.slice(11, 16)} UTC`;
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

/** Who holds the lock, in a sentence: "web1 is locked by alice@ops1 (pid 4242, site.yml, since 10:02 UTC)". */
export function describeHolder(host: string, rawRecord: string | undefined, now = new Date()): string {
  const line = (rawRecord ?? '')
    .split('\n')[0]!
    .replace(/ \[run [0-9a-f]+\]$/, '')
    .slice(0, 300)
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?')
    .trim();
  const fields = parseHolderRecord(line);
  if (fields) return `${host} is locked by ${fields.who} (pid ${fields.pid}, ${fields.playbook}, since ${sinceText(fields.startedAt, now)})`;
  return `${host} is locked by another foobar-provision run (${line || 'holder unknown'})`;
}
