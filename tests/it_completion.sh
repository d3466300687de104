# Bash completion (contrib/bash-completion/agentd, auditctl), run in a real
# bash the way readline does: `complete -p` names the function, which gets
# COMP_WORDS/COMP_CWORD and fills COMPREPLY. Every verb and option in each
# program's usage (--help, printed from its command table) is offered, and
# a few cases complete as a user expects (choices, sessions, files, commands).
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
root=$(cd "$TESTS/.." && pwd)

# comp PROG WORD... : what the completion offers for the last WORD, one a line.
# auditctl's file alone must be enough (bash-completion loads it by name).
comp() {
	bash --norc --noprofile -c '
		set -u
		name=${2##*/}
		. "$1/contrib/bash-completion/$name"
		spec=$(complete -p "$name") || exit 3
		fn=${spec#*-F }; fn=${fn%% *}
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u
	' comp "$root" "$@"
}
has() {	# has WORD <list
	grep -qxF -- "$1"
}

for p in agentd auditctl; do
	bash --norc -c ". '$root/contrib/bash-completion/$p' && complete -p $p" | grep -q -- '-F _agentd' ||
		fail "$p: no complete -F after sourcing its file"
done


for prog in "$AGENTD" "$AUDITCTL"; do
	name=$(basename "$prog")
	comp "$prog" "" > "$WORK/top"
	comp "$prog" "-" > "$WORK/topdash"
	sh "$TESTS/helpers/usage-items.sh" "$prog" > "$WORK/items"
	[ "$(awk '$2 == "."' "$WORK/items" | wc -l)" -ge 4 ] || fail "$name: too few verbs read from --help"
	while read -r verb opt; do
		if [ "$opt" = . ]; then
			case $verb in
			-*) has "$verb" < "$WORK/topdash" || fail "$name: verb $verb not offered for '-'" ;;
			*) has "$verb" < "$WORK/top" || fail "$name: verb $verb not offered" ;;
			esac
		elif [ "$verb" = . ]; then
			has "$opt" < "$WORK/topdash" || fail "$name: option $opt not offered before the verb"
		else
			comp "$prog" "$verb" "-" | has "$opt" || fail "$name $verb: option $opt not offered"
		fi
	done < "$WORK/items"
	note "$name: $(wc -l < "$WORK/items") verbs and options of --help offered"
done

# Cases, as a user types them.
[ "$(comp "$AGENTD" st | tr '\n' ' ')" = "start status stop " ] || fail "agentd st: $(comp "$AGENTD" st)"
[ "$(comp "$AGENTD" serve --on-recording-failure "" | tr '\n' ' ')" = "continue reject terminate " ] ||
	fail "--on-recording-failure choices: $(comp "$AGENTD" serve --on-recording-failure "")"
[ -z "$(comp "$AGENTD" start --ttl "")" ] || fail "a duration completed to something"
[ -z "$(comp "$AGENTD" start --ttl 1h --label "")" ] || fail "a label completed to something"
comp "$AGENTD" start --ttl 1h - | has --key-ttl || fail "start options after a value"

"$AGENTD" start --ttl 10m --label comp-label --json > "$WORK/s"
id=$(jq -r .session "$WORK/s")
comp "$AGENTD" add --session "" > "$WORK/c"
has "$id" < "$WORK/c" || fail "add --session: the session id is not offered: $(cat "$WORK/c")"
has comp-label < "$WORK/c" || fail "add --session: the label is not offered"
comp "$AGENTD" --dir "$AGENTD_DIR" stop --session "${id%"${id#????}"}" | has "$id" ||
	fail "stop --session PREFIX: the id is not offered"

newkey compkey
(cd "$WORK" && comp "$AGENTD" add --lifetime 5m comp) | has compkey || fail "add: key files not offered"
touch "$WORK/my key"
(cd "$WORK" && comp "$AGENTD" add my) | has "my key" || fail "add: a file name with a space is split"
comp "$AGENTD" shell -- bas | has bash || fail "shell --: commands not offered"
(cd "$WORK" && comp "$AGENTD" shell -- bash comp) | has compkey.pub || fail "shell -- CMD: files not offered"
(cd "$WORK" && comp "$AGENTD" --dir "") | grep -q home && fail "--dir offered something that is no directory"
mkdir "$WORK/adir"
(cd "$WORK" && comp "$AGENTD" --dir a) | has adir || fail "--dir: directories not offered"

comp "$AUDITCTL" --log "$LOG" show "" | has "$id" || fail "auditctl show: the session id is not offered"
(cd "$AGENTD_DIR" && comp "$AUDITCTL" verify aud) | has audit.jsonl || fail "auditctl verify: files not offered"
(cd "$AGENTD_DIR" && comp "$AUDITCTL" --log aud) | has audit.jsonl || fail "auditctl --log: files not offered"
comp "$AUDITCTL" --log "$LOG" ttl-evidence --m | has --markdown || fail "auditctl ttl-evidence options"
[ -z "$(comp "$AUDITCTL" ttl-evidence --since "")" ] || fail "auditctl --since completed to something"
"$AGENTD" stop --all >/dev/null
