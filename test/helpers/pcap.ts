// A reader for the classic pcap files tcpdump writes (-w), Ethernet + IPv4 + TCP only: enough to
// tell, per packet, who talked to whom on which port and what the TCP payload was.

export interface TcpPacket {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const ETHERNET = 1;
const IPV4 = 0x0800;
const VLAN = 0x8100;
const TCP = 6;

function ipv4(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** Every IPv4 TCP packet of the capture, in order; other frames are skipped. */
export function readPcap(file: Buffer): TcpPacket[] {
  if (file.length < 24) throw new Error(`not a pcap file: ${file.length} bytes`);
  const magic = file.readUInt32LE(0);
  // Microsecond (a1b2c3d4) or nanosecond (a1b23c4d) timestamps, either byte order.
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const big = file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d;
  if (!little && !big) throw new Error(`not a pcap file: magic ${magic.toString(16)}`);
  const u32 = (at: number) => (little ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20);
  if (linkType !== ETHERNET) throw new Error(`pcap link type ${linkType}: only Ethernet (1) is read`);
  const packets: TcpPacket[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const captured = u32(at + 8);
    const frame = file.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    let l3 = 14;
    if (frame.length < l3) continue;
    let type = frame.readUInt16BE(12);
    if (type === VLAN && frame.length >= 18) {
      type = frame.readUInt16BE(16);
      l3 = 18;
    }
    if (type !== IPV4 || frame.length < l3 + 20) continue;
    const ihl = (frame[l3]! & 0x0f) * 4;
    const total = frame.readUInt16BE(l3 + 2);
    if (frame[l3 + 9] !== TCP) continue;
    const l4 = l3 + ihl;
    if (frame.length < l4 + 20) continue;
    const dataOffset = (frame[l4 + 12]! >> 4) * 4;
    const end = Math.min(frame.length, l3 + total);
    packets.push({
      src: ipv4(frame, l3 + 12),
      dst: ipv4(frame, l3 + 16),
      srcPort: frame.readUInt16BE(l4),
      dstPort: frame.readUInt16BE(l4 + 2),
      payload: frame.subarray(Math.min(l4 + dataOffset, end), end),
    });
  }
  return packets;
}
