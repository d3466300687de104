#!/bin/sh
# Installs the Debian packages agentd needs when any is missing, so that
# `make demo` and `make check` work on a fresh bookworm machine. Quick (one
# dpkg-query per package) when everything is present.
set -eu
pkgs="build-essential pkg-config libsodium-dev libcjson-dev libbsd-dev check
openssh-client openssh-server jq procps util-linux python3 asciinema tmux
libcurl4-openssl-dev python3-h2 zsh softhsm2 opensc"
pkgs="$pkgs tcsh"	# it_client_trust.sh: csh quoting of `agentd start -c`
pkgs="$pkgs libsystemd-dev rsyslog rsyslog-relp"	# serve --journal; it_rsyslog.sh
pkgs="$pkgs logrotate mandoc"	# it_logrotate.sh; man page lint (it_manpages.sh)
pkgs="$pkgs chromium"	# it_report.sh, bench/report.sh: the report in a browser
missing=
for p in $pkgs; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
		missing="$missing $p"
done
# npm fetches the report's player at build (auditctl/report/package.json);
# any node/npm will do (Debian's, or one installed another way).
command -v npm >/dev/null || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else
	echo "deps: missing packages:$missing (as root: apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
