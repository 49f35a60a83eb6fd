import type { ModuleDoc } from './types.js';

export const certDoc: ModuleDoc = {
  args: [
    { name: 'cert', type: 'path', required: true, description: 'Where the certificate goes (written 0644).' },
    { name: 'key', type: 'path', required: true, description: 'The private key, made on the host when missing; never leaves it.' },
    { name: 'ca_cert', type: 'string', required: true, description: 'The CA certificate (PEM text), usually <%- internal_ca_cert %>.' },
    { name: 'ca_key', type: 'string', required: true, sensitive: true, description: 'The CA key (PEM text, secret), used on the controller only.' },
    { name: 'names', type: 'list of strings', description: "DNS SANs; the first is also the subject's CN. At least one name or address in all." },
    { name: 'ips', type: 'list of strings', description: 'IP SANs.' },
    { name: 'days', type: 'integer', default: '365', description: 'Validity of an issued certificate (at most 36500).' },
    { name: 'renew_before_days', type: 'integer', default: '30', description: 'Re-issue when it expires within this many days.' },
    { name: 'owner', type: 'string', default: 'root', description: 'Owner of both files.' },
    { name: 'group', type: 'string', description: "The key's group (unchanged when omitted; root for a new key)." },
    { name: 'mode', type: 'string (octal)', default: '0600', description: "The key's mode." },
  ],
  example: `- name: host certificate
  become: true
  cert:
    cert: /etc/foobar/tls/host.crt
    key: /etc/foobar/tls/host.key
    ca_cert: "<%- internal_ca_cert %>"
    ca_key: "<%- internal_ca_key %>"
    names: [web1]
    ips: ["10.213.0.21"]
`,
  notes: ['Issuing costs one more round trip (CSR made on the host, signed on the controller); a fine certificate costs none.'],
};
