# The bounded subset of `make torture` (tests/torture/torture.py --quick):
# every scenario for a few seeded iterations; the seed is printed so that a
# failure can be repeated with `make torture SEED=N`.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
python3 "$TESTS/torture/torture.py" --quick ${TORTURE_SEED:+--seed "$TORTURE_SEED"}
