# jq equivalent of the figures of `auditctl ttl-evidence --json`
# (run: jq -n -c -f ttl-evidence.jq LOG). Same definitions: nearest-rank
# percentiles, created -> key times in whole seconds rounded up.
def us: (.[0:19] + "Z" | fromdate) * 1000000 + (.[20:26] | tonumber);
def ceil_s: if . <= 0 then 0 else ((. + 999999) / 1000000 | floor) end;
def pct($p): . as $s | ($s | length) as $n |
  if $n == 0 then null else $s[([1, (($n * $p + 999) / 1000 | floor)] | max) - 1] end;
def pcts: sort | {sessions: length, p50: pct(500), p90: pct(900), p99: pct(990), max: pct(1000)};
reduce inputs as $e ({open: {}, ended: [], first: null, last: null};
  (if .first == null then .first = $e.ts else . end) | .last = $e.ts |
  if $e.session == null then .
  elif $e.event == "created" then
    .open[$e.session] = {c: ($e.ts | us), ttl: $e.ttl_s, fk: null, lu: null}
  elif .open[$e.session] == null then .
  elif $e.event == "key_loaded" then
    (if .open[$e.session].fk == null then .open[$e.session].fk = ($e.ts | us) else . end)
  elif $e.event == "key_used" then .open[$e.session].lu = ($e.ts | us)
  elif $e.event == "stopped" or $e.event == "crashed" then
    .ended += [.open[$e.session] + {r: $e.exit_reason, d: $e.duration_s}] |
    del(.open[$e.session])
  else . end)
| ([.ended[] | select(.lu != null) | (.lu - .c) | ceil_s] | sort) as $uses
| {window: {first_event_at: .first, last_event_at: .last,
    seconds: (((.last | us) - (.first | us)) / 1000000 | floor)},
  sessions: {ended: (.ended | length), open: (.open | length)},
  exit_reasons: (.ended | group_by(.r) | map({key: .[0].r, value: length}) | from_entries),
  duration_s: ([.ended[].d] | pcts),
  ttl_s: ([.ended[].ttl] | pcts),
  ran_into_ttl: {sessions: ([.ended[] | select(.r == "ttl_expired")] | length)},
  created_to_first_key_s: ([.ended[] | select(.fk != null) | (.fk - .c) | ceil_s] | pcts),
  created_to_last_key_use_s: ($uses | pcts),
  ttl_covering_key_use_s: {p95: ($uses | pct(950)), p99: ($uses | pct(990))}}
