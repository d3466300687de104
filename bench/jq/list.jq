# jq equivalent of `auditctl --list --json` (run: jq -n -c -f list.jq LOG).
# Unended sessions are reported as orphaned (no daemon holds a generated log)
# with their duration to now capped at the TTL, as auditctl does.
def us: (.[0:19] + "Z" | fromdate) * 1000000 + (.[20:26] | tonumber);
def ts_us: if . == null then null else (.[0:26] + "Z") end;
reduce inputs as $e ({};
  if $e.session == null then .
  elif $e.event == "created" then
    .[$e.session] = {session: $e.session, label: $e.label, state: "orphaned",
      created_at: $e.ts, ended_at: null, duration_s: null, ttl_s: $e.ttl_s,
      key_ttl_s: $e.key_ttl_s, exit_reason: null, exit_code: null, signal: null,
      keys_loaded: 0, signatures: 0, key_uses: 0, last_key_use_at: null, shells: 0}
  elif .[$e.session] == null then .
  elif $e.event == "key_loaded" then .[$e.session].keys_loaded += 1
  elif $e.event == "key_used" then
    .[$e.session] |= (.key_uses += 1 | .last_key_use_at = $e.ts |
      if $e.ok then .signatures += 1 else . end)
  elif $e.event == "shell_started" then .[$e.session].shells += 1
  elif $e.event == "stopped" or $e.event == "crashed" then
    .[$e.session] |= (.state = $e.event | .ended_at = $e.ts |
      .duration_s = $e.duration_s | .exit_reason = $e.exit_reason |
      .exit_code = $e.exit_code | .signal = $e.signal)
  else . end)
| [.[] | if .state == "orphaned" then
    .duration_s = ([((now * 1000000 - (.created_at | us)) / 1000000 + 0.5 | floor), .ttl_s] | min)
  else . end]
