# jq equivalent of the figures of `auditctl ttl-evidence --json`
# (run: jq -n -c -f ttl-evidence.jq LOG). Same definitions: nearest-rank
# percentiles, created -> key times in whole seconds rounded up, sessions
# counted when they have a created and an end. Grouped by session rather
# than a `reduce` into one object, which jq 1.6 makes quadratic.
def us: (.[0:19] + "Z" | fromdate) * 1000000 + (.[20:26] | tonumber);
def ceil_s: if . <= 0 then 0 else ((. + 999999) / 1000000 | floor) end;
def pct($p): . as $s | ($s | length) as $n |
  if $n == 0 then null else $s[([1, (($n * $p + 999) / 1000 | floor)] | max) - 1] end;
def pcts: sort | {sessions: length, p50: pct(500), p90: pct(900), p99: pct(990), max: pct(1000)};
[inputs | {s: .session, e: .event, ts, ttl_s, ok, exit_reason, duration_s}]
| (first | .ts) as $first | (last | .ts) as $last
| [.[] | select(.s != null)] | group_by(.s)
| map((map(select(.e == "created")) | first) as $c |
      (map(select(.e == "stopped" or .e == "crashed")) | first) as $fin |
      select($c != null) |
      {c: ($c.ts | us), ttl: $c.ttl_s, r: $fin.exit_reason, d: $fin.duration_s,
       ended: ($fin != null),
       fk: (map(select(.e == "key_loaded")) | first | if . then (.ts | us) else null end),
       lu: (map(select(.e == "key_used")) | last | if . then (.ts | us) else null end)})
| [.[] | select(.ended)] as $ended
| ([$ended[] | select(.lu != null) | (.lu - .c) | ceil_s] | sort) as $uses
| {window: {first_event_at: $first, last_event_at: $last,
    seconds: ((($last | us) - ($first | us)) / 1000000 | floor)},
  sessions: {ended: ($ended | length), open: (length - ($ended | length))},
  exit_reasons: ($ended | group_by(.r) | map({key: .[0].r, value: length}) | from_entries),
  duration_s: ([$ended[].d] | pcts),
  ttl_s: ([$ended[].ttl] | pcts),
  ran_into_ttl: {sessions: ([$ended[] | select(.r == "ttl_expired")] | length)},
  created_to_first_key_s: ([$ended[] | select(.fk != null) | (.fk - .c) | ceil_s] | pcts),
  created_to_last_key_use_s: ($uses | pcts),
  ttl_covering_key_use_s: {p95: ($uses | pct(950)), p99: ($uses | pct(990))}}
