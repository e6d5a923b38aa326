"""Build pcap files by hand (python3 stdlib): IPv4/IPv6 TCP segments under several link types."""
import socket
import struct

LT_NULL, LT_ETHERNET, LT_RAW, LT_SLL, LT_SLL2, LT_80211 = 0, 1, 101, 113, 276, 105


def ipv4(src, dst, payload, proto=6):
    tot = 20 + len(payload)
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 1, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h + payload


def ipv6(src, dst, payload, nh=6):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def tcp(sport, dport, seq, flags, data=b"", ack=0):
    return struct.pack(">HHIIBBHHH", sport, dport, seq & 0xffffffff, ack, 5 << 4, flags, 65535, 0, 0) + data


def link(lt, ip, v6=False):
    et = 0x86DD if v6 else 0x0800
    if lt == LT_ETHERNET:
        return b"\x02" * 6 + b"\x04" * 6 + struct.pack(">HHH", 0x8100, 7, et) + ip  # with a VLAN tag
    if lt == LT_SLL:
        return struct.pack(">HHH8sH", 0, 772, 0, b"\0" * 8, et) + ip
    if lt == LT_SLL2:
        return struct.pack(">HHIHBB8s", et, 0, 1, 772, 0, 0, b"\0" * 8) + ip
    if lt == LT_NULL:
        return struct.pack("<I", 30 if v6 else 2) + ip  # host (little-endian) byte order
    return ip


class Conv:
    """A TCP conversation: handshake, data segments each way, FIN/FIN."""

    def __init__(self, cli, srv, cport, sport, v6=False):
        self.cli, self.srv, self.cport, self.sport, self.v6 = cli, srv, cport, sport, v6
        self.cseq, self.sseq = 1000, 5000
        self.pkts = []

    def _ip(self, from_client, seg):
        s, d = (self.cli, self.srv) if from_client else (self.srv, self.cli)
        return ipv6(s, d, seg) if self.v6 else ipv4(s, d, seg)

    def syn(self):
        self.pkts.append(self._ip(True, tcp(self.cport, self.sport, self.cseq, 0x02)))
        self.pkts.append(self._ip(False, tcp(self.sport, self.cport, self.sseq, 0x12)))
        self.cseq += 1
        self.sseq += 1
        return self

    def c(self, data):
        self.pkts.append(self._ip(True, tcp(self.cport, self.sport, self.cseq, 0x18, data)))
        self.cseq += len(data)
        return self

    def s(self, data):
        self.pkts.append(self._ip(False, tcp(self.sport, self.cport, self.sseq, 0x18, data)))
        self.sseq += len(data)
        return self

    def fin(self):
        self.pkts.append(self._ip(True, tcp(self.cport, self.sport, self.cseq, 0x11)))
        self.pkts.append(self._ip(False, tcp(self.sport, self.cport, self.sseq, 0x11)))
        return self


def write_pcap(path, lt, packets, snaplen=65535, cut_caplen=None, truncate_file_at=None, ts0=1795400000):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, lt)
    for i, p in enumerate(packets):
        cap = p if cut_caplen is None else p[:cut_caplen]
        out += struct.pack("<IIII", ts0 + i, 0, len(cap), len(p)) + cap
    if truncate_file_at is not None:
        out = out[:truncate_file_at]
    with open(path, "wb") as f:
        f.write(out)
    return path
