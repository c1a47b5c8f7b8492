# Lists every difference between a teiten-gen truth ($t) and a teiten
# --summary ($s): each truth figure must be equal, and each ZSET-like metric
# of the summary may hold no member the truth does not have.
($t[0]) as $t | ($s[0]) as $s |
(["packets", "not_dark", "malformed", "non_ip"][] as $k
    | select($t[$k] != $s[$k])
    | "\($k): truth \($t[$k]), summary \($s[$k])"),
($t.scopes | to_entries[] | .key as $sc | .value | to_entries[] | .key as $m
    | .value | to_entries[]
    | select(.value != ($s.scopes[$sc][$m][.key] // 0))
    | "\($sc) \($m) \(.key): truth \(.value), summary \($s.scopes[$sc][$m][.key] // 0)"),
($s.scopes | to_entries[] | .key as $sc | select($t.scopes[$sc] != null) | .value
    | to_entries[] | select(.key != "totals") | .key as $m
    | select($t.scopes[$sc][$m] != null) | .value | keys[]
    | select($t.scopes[$sc][$m][.] == null)
    | "\($sc) \($m) \(.): in the summary only")
