#!/usr/bin/env bash
# Install the Debian packages listed in scripts/debian-packages.txt that are
# missing (apt-get as root, or through sudo). Safe to run repeatedly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(grep -v '^\s*#' "$here/debian-packages.txt" | awk 'NF {print $1}')
missing=()
for p in "${wanted[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Several test daemons (rsh-server/openbsd-inetd, vsftpd, exim4, rpcbind, tftpd-hpa, memcached,
# mariadb-server, postgresql, redis-server) would be started by their postinst on their global
# default ports; the tests start their own. Forbid service starts during the install unless the
# machine already has a policy (containers usually do), and remove ours afterwards.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	ours=1
fi
cleanup() { if [ -n "$ours" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
