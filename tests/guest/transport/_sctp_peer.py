"""Minimal kernel-SCTP peer for kernel_loss_test.ts (starts in well under a second under UML).

  python3 _sctp_peer.py server ADDRESS PORT            echo every message, forever
  python3 _sctp_peer.py client ADDRESS PORT TO PORT N  from ADDRESS:PORT, send N messages to
                                                       TO:PORT (one-to-many, implicit setup)
                                                       and print "echoes K" after each echo
Prints "ready" once its socket is bound. Ends on SIGTERM/SIGKILL.
"""
import socket
import sys

mode, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, socket.IPPROTO_SCTP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, port))
if mode == "server":
    s.listen(16)
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)
else:
    target = (sys.argv[4], int(sys.argv[5]))
    count = int(sys.argv[6])
    print("ready", flush=True)
    for i in range(count):
        s.sendto(b"%08d" % i, target)
    for k in range(1, count + 1):
        s.recvfrom(65536)
        print("echoes %d" % k, flush=True)
    s.recvfrom(65536)  # wait (the test kills us)
