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
$sudo apt-get update -qq
# Daemon packages (nginx-light, haproxy, redis-server) must not start their system services at
# install time (port 80 etc.): the tests start their own instances. A temporary policy-rc.d denies it.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
rc=0
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
if [ -n "$made_policy" ]; then
	$sudo rm -f /usr/sbin/policy-rc.d
fi
exit $rc
