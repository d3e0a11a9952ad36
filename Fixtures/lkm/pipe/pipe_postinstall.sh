#!/bin/sh
# modload -p pipe_postinstall.sh pipe.o: makes /dev/pipe0 with the major the kernel chose.
[ "$2" = 0x2 ] || { echo "$0: module $1 is not a device driver (type $2)" >&2; exit 1; }
exec lkmctl mknod /dev/pipe0 c "$3" 0
