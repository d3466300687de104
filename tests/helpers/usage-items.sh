#!/bin/sh
# usage-items.sh PROG: the verbs and options of PROG's usage (PROG --help,
# printed from its command table), one "VERB OPTION" a line: OPTION "." for
# the verb itself, VERB "." for options before any verb. Read with plain
# awk, independently of contrib/bash-completion, to check it and the man
# pages against the program.
"$1" --help | awk -v prog="$(basename "$1")" '
{
	sub(/^usage:/, "")
	line = $0
	if ($1 == prog) {
		t = line; gsub(/\[[^]]*\](…|\.\.\.)?/, "", t); split(t, w, " ")
		verb = (w[2] ~ /^-?-?[a-z]/) ? w[2] : ""
		if (verb != "") print verb, "."
	}
	t = line; gsub(/\[-- /, "[", t)
	while (match(t, /(^|[[ |])--?[A-Za-z][A-Za-z0-9-]*/)) {
		o = substr(t, RSTART, RLENGTH); sub(/^[[ |]/, "", o)
		t = substr(t, RSTART + RLENGTH)
		if (o != verb && o != prog) print (verb == "" ? "." : verb), o
	}
}'
