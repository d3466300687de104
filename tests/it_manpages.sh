# docs/agentd.1 and docs/auditctl.1: clean under mandoc -T lint and man -l;
# every verb and option of each program's usage (--help, from its command
# table) appears in its page; every environment variable the program's code
# reads (getenv) is in its ENVIRONMENT section; the sections a user looks
# for are there.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
root=$(cd "$TESTS/.." && pwd)
command -v mandoc >/dev/null || fail "mandoc is not installed (scripts/deps.sh installs it)"

# section PAGE NAME: the rendered text of one section.
section() {
	awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) ; next } on' "$1"
}
# word: an option or name standing alone (not inside a longer option).
mentions() {
	grep -Eq -- "(^|[^-A-Za-z0-9_])$1([^-A-Za-z0-9_]|\$)"
}

for prog in "$AGENTD" "$AUDITCTL"; do
	name=$(basename "$prog")
	page=$root/docs/$name.1
	out=$(mandoc -T lint -W warning "$page" 2>&1) || fail "$name.1: mandoc -T lint: $out"
	[ -z "$out" ] || fail "$name.1: mandoc -T lint: $out"
	out=$(MANWIDTH=80 MANROFFOPT=-ww man -l "$page" 2>&1 >/dev/null) || fail "$name.1: man -l failed: $out"
	[ -z "$out" ] || fail "$name.1: man -l warns: $out"
	mandoc -T ascii "$page" | col -b > "$WORK/$name.txt"

	for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qx "$s" "$WORK/$name.txt" || fail "$name.1 has no $s section"
	done
	[ "$(section "$WORK/$name.txt" EXAMPLES | grep -c "$name ")" -ge 3 ] ||
		fail "$name.1: EXAMPLES shows fewer than 3 commands"

	n=0
	sh "$TESTS/helpers/usage-items.sh" "$prog" > "$WORK/items"
	while read -r verb opt; do
		for w in "$verb" "$opt"; do
			[ "$w" = . ] && continue
			mentions "$w" < "$WORK/$name.txt" || fail "$name.1 does not mention '$w' (from $name --help)"
			n=$((n + 1))
		done
	done < "$WORK/items"
	[ $n -ge 10 ] || fail "$name: only $n usage items read"

	# The variables the program reads, from its sources.
	section "$WORK/$name.txt" ENVIRONMENT > "$WORK/$name.env"
	vars=$(cat "$root/$name"/*.c | grep -o 'getenv("[A-Za-z_0-9]*")' | sed 's/getenv("\(.*\)")/\1/' | sort -u)
	[ -n "$vars" ] || fail "$name: no getenv found in $name/*.c"
	for v in $vars; do
		mentions "$v" < "$WORK/$name.env" || fail "$name.1: ENVIRONMENT does not name $v (read by $name/*.c)"
	done
	note "$name.1: lint clean, $n usage items, $(echo $vars | wc -w) variables"
done
