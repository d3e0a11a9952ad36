#!/bin/sh
# Ordinary commands in the current directory, printing what does not depend on the file system
# (no inode numbers, link counts of directories, block counts, directory sizes or times they did
# not set): run on a host mount of an lkm file system and on tmpfs, the outputs must be equal
# (Tests/ToolTests/HostMountTests.swift). $1: a host file to copy in.
set -e
source=${1:-/etc/services}
mkdir -p a/b/c
echo hello > a/f
printf 'x%.0s' $(seq 1 5000) > a/b/big
cp "$source" a/b/c/copy
cp -r a a2
mv a2/f a2/g
cat a/f
ls a a/b a2
ls -l a/f a/b/big | awk '{print $1, $5, $NF}'
find . | sort
find . -type f -exec wc -c {} + | sort
cmp a/b/c/copy "$source" && echo same as the source
chmod 600 a/f
stat -c '%a %s %F %n' a/f
stat -c '%a %F %n' a/b
truncate -s 3 a/f
cat a/f; echo
sed -i 's/hel/HEL/' a/f
cat a/f; echo
touch -d '2020-01-02 03:04:05 UTC' a/f
stat -c '%Y %n' a/f
ln -s f a/link
readlink a/link
cat a/link; echo
dd if=/dev/zero of=a/zeros bs=64k count=20 status=none
md5sum a/zeros a/b/c/copy | awk '{print $1}'
head -c 100 a/b/c/copy | od -c | head -2
tail -c 10 a/zeros | od -An -tx1
rm a2/g
rmdir a/b 2>&1 | sed 's/^rmdir: //' || true
mv a/b a/moved
ls -R a | head -20
rm -r a2
rm -rf a
ls -A
echo done
