#!/usr/bin/env bash
# Installs the Debian packages hcnet's tests and `make run` use, when missing.
# Without root it only says what is missing; tests that need it then skip.
set -euo pipefail

# command -> package providing it
declare -A need=(
	[ovsdb-server]=openvswitch-common
	[ovsdb-client]=openvswitch-common
	[ovs-vsctl]=openvswitch-switch
	[ovs-vswitchd]=openvswitch-switch
	[ovn-nbctl]=ovn-common
	[ovn-sbctl]=ovn-common
	[ovn-northd]=ovn-central
	[ovn-controller]=ovn-host
	[ping]=iputils-ping
	[busybox]=busybox
	[iperf3]=iperf3
	[ethtool]=ethtool
	[ip]=iproute2
	[tc]=iproute2
	[nc]=netcat-openbsd
)
missing=()
for cmd in "${!need[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/usr/bin/$cmd" ]; then
		missing+=("${need[$cmd]}")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: $pkgs(run as root to install; tests that need them skip)" >&2
	exit 0
fi
echo "deps: installing $pkgs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
# Debian's packages may start their services where an init system runs; the
# tests start their own instances on their own sockets and ports.
for svc in ovn-central ovn-host openvswitch-switch; do
	if command -v service >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done
