#!/bin/sh
# modunload -n rd -p rd_postunload.sh runs this (with no arguments) after the unload.
exec lkmctl rm /dev/rd0
