#!/bin/sh
# modload -p rot13_postinstall.sh rot13.o runs this after the load with the module's id, its
# type in hex (0x2, LM_DEV) and its character major: it makes the device node.
[ "$2" = 0x2 ] || { echo "$0: module $1 is not a device driver (type $2)" >&2; exit 1; }
exec lkmctl mknod /dev/rot13 c "$3" 0
