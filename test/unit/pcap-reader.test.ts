// The capture proof's pcap reader, on a file built here byte by byte.
import { describe, expect, it } from 'vitest';
import { readPcap } from '../helpers/pcap.js';

function frame(src: number[], dst: number[], sport: number, dport: number, payload: string): Buffer {
  const data = Buffer.from(payload);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp[12] = 5 << 4;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip[9] = 6;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  // Ethernet pads short frames to 60 bytes: the IP total length says where the payload ends.
  const whole = Buffer.concat([eth, ip, tcp, data]);
  return whole.length < 60 ? Buffer.concat([whole, Buffer.alloc(60 - whole.length)]) : whole;
}

function pcap(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  return Buffer.concat([header, ...frames.flatMap((f) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    return [rec, f];
  })]);
}

describe('readPcap', () => {
  it('gives addresses, ports and the TCP payload without Ethernet padding', () => {
    const packets = readPcap(pcap([
      frame([10, 213, 0, 11], [10, 213, 0, 21], 40000, 443, 'GET / HTTP/1.1\r\n'),
      frame([10, 213, 0, 42], [10, 213, 0, 41], 50000, 3306, ''),
    ]));
    expect(packets).toHaveLength(2);
    expect(packets[0]).toMatchObject({ src: '10.213.0.11', dst: '10.213.0.21', srcPort: 40000, dstPort: 443 });
    expect(packets[0]!.payload.toString()).toBe('GET / HTTP/1.1\r\n');
    expect(packets[1]!.payload.length).toBe(0);
  });

  it('refuses what is not a pcap file', () => {
    expect(() => readPcap(Buffer.alloc(40, 1))).toThrow(/not a pcap file/);
  });
});
