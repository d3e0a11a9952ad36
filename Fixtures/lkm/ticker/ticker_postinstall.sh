#!/bin/sh
# modload -p ticker_postinstall.sh ticker.o: makes /dev/ticker0 with the major the kernel chose.
[ "$2" = 0x2 ] || { echo "$0: module $1 is not a device driver (type $2)" >&2; exit 1; }
exec lkmctl mknod /dev/ticker0 c "$3" 0
