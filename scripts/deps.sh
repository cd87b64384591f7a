#!/usr/bin/env bash
# Installs what tollgate needs to build and test, from Debian's packages.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail


missing=()
have_header() { [ -e "$1" ]; }
have_header /usr/include/ncursesw/curses.h || missing+=(libncurses-dev)
have_header /usr/include/hiredis/hiredis.h || missing+=(libhiredis-dev)
have_header /usr/include/qrencode.h || missing+=(libqrencode-dev)
have_header /usr/include/x86_64-linux-gnu/curl/curl.h || have_header /usr/include/curl/curl.h || missing+=(libcurl4-openssl-dev)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v clickhouse-server >/dev/null || missing+=(clickhouse-server)
command -v clickhouse-client >/dev/null || missing+=(clickhouse-client)
command -v tmux >/dev/null || missing+=(tmux)
# make bench compares the bytes the console writes with htop's.
command -v htop >/dev/null || missing+=(htop)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
# The tests run the console over a real SSH connection to an sshd of their own.
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
# The Keycloak stand-in of the tests signs tokens with the cryptography package.
{ python3 -c 'import cryptography' 2>/dev/null || /usr/bin/python3 -c 'import cryptography' 2>/dev/null; } || missing+=(python3-cryptography)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "tollgate needs: ${missing[*]}" >&2
    echo "run as root:  $cmd" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
