"""An ICMP echo responder that answers only some echoes, for packet-loss tests: run as
root inside a network namespace whose kernel ignores echoes
(net.ipv4.icmp_echo_ignore_all=1), it answers the requests whose sequence number is in
the set given, so the check sees a known share of its echoes lost.

    python -m tests.icmp_responder 0,2 READY_FILE   # answer sequences 0 and 2, drop the rest

READY_FILE is created once the socket listens."""

from __future__ import annotations

import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def reply_to(packet: bytes) -> tuple[bytes, int] | None:
    """The echo reply to an IPv4 packet carrying an echo request, and its sequence number."""
    icmp = packet[(packet[0] & 0x0F) * 4:]
    kind, _, _, ident, sequence = struct.unpack("!BBHHH", icmp[:8])
    if kind != 8:
        return None
    header = struct.pack("!BBHHH", 0, 0, 0, ident, sequence)
    body = icmp[8:]
    return struct.pack("!BBHHH", 0, 0, checksum(header + body), ident, sequence) + body, sequence


def main(answered: set[int], ready_file: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    open(ready_file, "w").close()
    while True:
        packet, (source, _) = sock.recvfrom(65535)
        reply = reply_to(packet)
        if reply is not None and reply[1] in answered:
            sock.sendto(reply[0], (source, 0))


if __name__ == "__main__":
    main({int(s) for s in sys.argv[1].split(",") if s}, sys.argv[2])
