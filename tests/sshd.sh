# Sourced by tests that log in through a real sshd on 127.0.0.1 (after
# lib.sh): the first sshd (lib.sh start_sshd, NAME sshd) with agent
# forwarding allowed; the test fills $S/authorized_keys. Skips the test
# (exit 0) where no sshd is installed.
start_sshd sshd "AllowAgentForwarding yes" "LoginGraceTime 60" ||
	{ note "no sshd: skipped"; exit 0; }
