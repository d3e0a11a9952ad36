#!/bin/sh
# modload -p rd_postinstall.sh rd.o runs this after the load with the module's id, its type in
# hex (0x2, LM_DEV) and its block major: it makes the device node.
[ "$2" = 0x2 ] || { echo "$0: module $1 is not a device driver (type $2)" >&2; exit 1; }
exec lkmctl mknod /dev/rd0 b "$3" 0
