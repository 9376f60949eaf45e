"""Exit 0 when something answers on HOST PORT (used by the Makefile to find PostgreSQL)."""

import socket
import sys

try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
