#!/bin/sh
# modunload -n rot13 -p rot13_postunload.sh runs this (with no arguments) after the unload.
exec lkmctl rm /dev/rot13
