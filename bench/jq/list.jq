# jq equivalent of `auditctl --list --json` (run: jq -n -c -f list.jq LOG).
# Group the events by session, fold each group, order by creation. (A
# `reduce` into one object keyed by session is the obvious program, but jq 1.6
# copies that object on every update: quadratic, hours on a million lines.)
# Unended sessions are reported as orphaned (no daemon holds a generated log)
# with their duration to now capped at the TTL, as auditctl does.
def us: (.[0:19] + "Z" | fromdate) * 1000000 + (.[20:26] | tonumber);
[inputs | select(.session != null) |
  {s: .session, q: .seq, e: .event, ts, label: .label, host, ttl_s, key_ttl_s, ok,
   exit_reason, duration_s, exit_code, signal}]
| group_by(.s)
| map(
    (map(select(.e == "created")) | first) as $c |
    (map(select(.e == "stopped" or .e == "crashed")) | first) as $fin |
    map(select(.e == "key_used")) as $uses |
    select($c != null) |
    {session: $c.s, host: $c.host, label: $c.label,
     state: (if $fin then $fin.e else "orphaned" end),
     created_at: $c.ts, ended_at: $fin.ts,
     duration_s: (if $fin then $fin.duration_s else
       ([((now * 1000000 - ($c.ts | us)) / 1000000 + 0.5 | floor), $c.ttl_s] | min) end),
     ttl_s: $c.ttl_s, key_ttl_s: $c.key_ttl_s, exit_reason: $fin.exit_reason,
     exit_code: $fin.exit_code, signal: $fin.signal,
     keys_loaded: (map(select(.e == "key_loaded")) | length),
     signatures: ($uses | map(select(.ok)) | length),
     key_uses: ($uses | length), last_key_use_at: ($uses | last | .ts),
     shells: (map(select(.e == "shell_started")) | length), q: $c.q})
| sort_by(.q) | map(del(.q))
