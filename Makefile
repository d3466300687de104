# agentd — see README.md. `make demo` and `make check` set up a fresh Debian
# machine themselves: build/config.mk is made first (GNU make remakes included
# makefiles before anything else), and making it installs missing packages.

.DEFAULT_GOAL := all

PREFIX  ?= /usr/local
DESTDIR ?=
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
BUILD   ?= build
CC      ?= cc
WERROR  ?= -Werror
SAN     ?=

WARN = -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla -Wwrite-strings -Wundef \
       -Wimplicit-fallthrough
CFLAGS ?= -O2 -g
ifneq ($(SAN),)
CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(PKG_CFLAGS) -Ilib -MMD -MP

ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
-include $(BUILD)/config.mk
endif

$(BUILD)/config.mk: scripts/deps.sh
	@./scripts/deps.sh
	@mkdir -p $(BUILD)
	@{ echo "PKG_CFLAGS = $$(pkg-config --cflags libsodium libcjson libbsd libcurl libsystemd)"; \
	   echo "PKG_LIBS = $$(pkg-config --libs libsodium libcjson libbsd libsystemd)"; \
	   echo "CHECK_CFLAGS = $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS = $$(pkg-config --libs check)"; } > $@

LIB_SRC    = $(sort $(wildcard lib/*.c))
AGENTD_SRC = $(sort $(filter-out agentd/tether-main.c,$(wildcard agentd/*.c)))
AUDITCTL_SRC = $(sort $(wildcard auditctl/*.c))
TEST_SRC   = $(sort $(wildcard tests/check_*.c))

LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
AGENTD_OBJ = $(AGENTD_SRC:%.c=$(BUILD)/%.o)
AUDITCTL_OBJ = $(AUDITCTL_SRC:%.c=$(BUILD)/%.o)
BINS       = $(BUILD)/bin/agentd $(BUILD)/bin/agentd-tether \
             $(if $(AUDITCTL_SRC),$(BUILD)/bin/auditctl)
TEST_BIN   = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all check unit integration sanitize demo install clean bench bench-auditctl bench-checkpoint fuzz torture
all: $(BINS)

# Quiet by default; `make V=1` shows the commands.
Q = $(if $(V),,@)
$(BUILD)/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(if $(V),,@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libagentd.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/agentd: $(AGENTD_OBJ) $(BUILD)/libagentd.a
	@mkdir -p $(@D)
	$(if $(V),,@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The tether is exec'ed on every session start: static, it links no library.
$(BUILD)/bin/agentd-tether: $(BUILD)/agentd/tether-main.o $(BUILD)/agentd/tether.o
	@mkdir -p $(@D)
	$(if $(V),,@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(if $(SAN),,-static) -o $@ $^

# The report's player (npm, pinned by auditctl/report/package-lock.json) and
# its own script and style, embedded into auditctl (auditctl/report/assets.S).
NPM_DIR    = $(BUILD)/npm
PLAYER_DIR = $(NPM_DIR)/node_modules/asciinema-player/dist/bundle
$(PLAYER_DIR)/asciinema-player.min.js: auditctl/report/package.json auditctl/report/package-lock.json
	@mkdir -p $(NPM_DIR)
	$(if $(V),,@echo "  NPM     asciinema-player")
	$(Q)cp auditctl/report/package.json auditctl/report/package-lock.json $(NPM_DIR)/
	$(Q)cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)touch $@
$(BUILD)/auditctl/report-assets.o: auditctl/report/assets.S auditctl/report/report.js \
    auditctl/report/report.css $(PLAYER_DIR)/asciinema-player.min.js
	@mkdir -p $(@D)
	$(if $(V),,@echo "  AS      $@")
	$(Q)$(CC) -c -o $@ auditctl/report/assets.S \
	    -DPLAYER_JS='"$(PLAYER_DIR)/asciinema-player.min.js"' \
	    -DPLAYER_CSS='"$(PLAYER_DIR)/asciinema-player.css"' \
	    -DAPP_JS='"auditctl/report/report.js"' -DAPP_CSS='"auditctl/report/report.css"'
AUDITCTL_OBJ += $(BUILD)/auditctl/report-assets.o

$(BUILD)/bin/auditctl: $(AUDITCTL_OBJ) $(BUILD)/libagentd.a
	@mkdir -p $(@D)
	$(if $(V),,@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libagentd.a
	$(if $(V),,@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(BUILD)/tests/%.o: ALL_CFLAGS += $(CHECK_CFLAGS)

# Unit suites (Check, fork mode) then the integration scripts against the real
# ssh-agent/ssh-add/ssh-keygen/sshd, each under a private AGENTD_DIR.
check: unit integration
unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do $$t; done
integration: $(BINS)
	@AGENTD=$(abspath $(BUILD)/bin/agentd) AUDITCTL=$(abspath $(BUILD)/bin/auditctl) \
	    tests/run-integration.sh

# Seeded faults, races and hostile input (tests/torture/); `make check` runs a
# bounded subset (tests/it_torture.sh). SEED=N repeats a run.
SEED ?=
torture: $(BINS)
	@AGENTD=$(abspath $(BUILD)/bin/agentd) AUDITCTL=$(abspath $(BUILD)/bin/auditctl) \
	    python3 tests/torture/torture.py $(if $(SEED),--seed $(SEED)) \
	    --report docs/RELIABILITY.md

# The whole check again under ASan+UBSan, in its own build tree.
sanitize:
	$(MAKE) BUILD=build-san SAN=1 check

# libFuzzer targets, one per parser (clang). FUZZ_SECONDS each; CI runs a
# short bounded pass, `make fuzz FUZZ_SECONDS=600` a long one.
FUZZ_SECONDS ?= 60
FUZZ_SRC     = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(wildcard tests/ref*.h) $(LIB_SRC) $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(if $(V),,@echo "  FUZZ    $@")
	$(Q)clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Ilib $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)
fuzz: $(FUZZ_BIN) $(BINS)
	@[ -n "$$(ls -A build-fuzz/corpus/fuzz_agentproto 2>/dev/null)" ] || \
	    tests/fuzz/agent-corpus.sh build-fuzz/corpus/fuzz_agentproto
	@echo "fuzz: tests/fuzz/diff_relay.py (relay vs. ssh-agent) for $(FUZZ_SECONDS)s"
	@AGENTD=$(abspath $(BUILD)/bin/agentd) python3 tests/fuzz/diff_relay.py \
	    --seconds $(FUZZ_SECONDS) --corpus build-fuzz/corpus/fuzz_agentproto \
	    --out build-fuzz/diff_relay
	@set -e; for f in $(FUZZ_BIN); do \
	    mkdir -p build-fuzz/corpus/$$(basename $$f); \
	    echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	        build-fuzz/corpus/$$(basename $$f) 2>build-fuzz/$$(basename $$f).log || \
	        { tail -n 40 build-fuzz/$$(basename $$f).log; exit 1; }; \
	    grep -E '^(#[0-9]+ *DONE|Done)' build-fuzz/$$(basename $$f).log | tail -n 1; \
	done

demo: $(BINS)
	@AGENTD=$(abspath $(BUILD)/bin/agentd) AUDITCTL=$(abspath $(BUILD)/bin/auditctl) \
	    ./scripts/demo.sh

# Every benchmark, each against the tool a user would otherwise use, in one
# run (figures: docs/PERFORMANCE.md). bench/auditctl.sh (1M and 5M-line logs,
# jq for comparison) takes a while: `make bench-auditctl`.
BENCH_ENV = AGENTD=$(abspath $(BUILD)/bin/agentd) AUDITCTL=$(abspath $(BUILD)/bin/auditctl)
bench: $(BINS)
	@$(BENCH_ENV) ./bench/start-latency.sh
	@$(BENCH_ENV) ./bench/many-sessions.sh
	@$(BENCH_ENV) ./bench/relay-latency.sh
	@$(BENCH_ENV) ./bench/shell-throughput.sh
	@$(BENCH_ENV) ./bench/recorder-throughput.sh
	@$(BENCH_ENV) ./bench/approval-latency.sh
	@$(BENCH_ENV) ./bench/gate.sh
bench-auditctl: $(BINS)
	@$(BENCH_ENV) ./bench/auditctl.sh
# Appends with signed checkpoints against without, alternating (issue 15).
$(BUILD)/bench/checkpoint-append: bench/checkpoint-append.c $(BUILD)/libagentd.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
bench-checkpoint: $(BUILD)/bench/checkpoint-append
	@d=$$(mktemp -d "$${BENCH_DIR:-$$HOME}/.agentd-bench.XXXXXX") && \
	    $(BUILD)/bench/checkpoint-append "$$d" $${N:-5000} $${ROUNDS:-5}; \
	    rc=$$?; rm -rf "$$d"; exit $$rc

# The tether goes to libexec, where agentd looks for it (../libexec/agentd).
install: $(BINS)
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/libexec/agentd
	install -m 0755 $(BUILD)/bin/agentd $(DESTDIR)$(PREFIX)/bin/agentd
	install -m 0755 $(BUILD)/bin/auditctl $(DESTDIR)$(PREFIX)/bin/auditctl
	install -m 0755 $(BUILD)/bin/agentd-tether \
	    $(DESTDIR)$(PREFIX)/libexec/agentd/agentd-tether
	install -d -m 0755 $(DESTDIR)$(COMPDIR) $(DESTDIR)$(PREFIX)/share/agentd/logrotate
	install -m 0644 contrib/bash-completion/agentd $(DESTDIR)$(COMPDIR)/agentd
	install -m 0644 contrib/bash-completion/auditctl $(DESTDIR)$(COMPDIR)/auditctl
	install -m 0644 contrib/logrotate/agentd $(DESTDIR)$(PREFIX)/share/agentd/logrotate/agentd
	install -m 0644 docs/agentd.1 $(DESTDIR)$(PREFIX)/share/man/man1/agentd.1
	install -m 0644 docs/auditctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/auditctl.1
	install -d -m 0755 $(DESTDIR)$(PREFIX)/lib/systemd/user
	sed 's|@bindir@|$(PREFIX)/bin|g' contrib/systemd/agentd.service > $(BUILD)/agentd.service
	install -m 0644 $(BUILD)/agentd.service \
	    $(DESTDIR)$(PREFIX)/lib/systemd/user/agentd.service

clean:
	rm -rf build build-san* build-fuzz

# Removes what install put, nothing else: shared directories (bin, man1,
# completions) stay; agentd's own ones go when empty.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/agentd $(DESTDIR)$(PREFIX)/bin/auditctl \
	    $(DESTDIR)$(PREFIX)/libexec/agentd/agentd-tether \
	    $(DESTDIR)$(PREFIX)/share/man/man1/agentd.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/auditctl.1 \
	    $(DESTDIR)$(COMPDIR)/agentd $(DESTDIR)$(COMPDIR)/auditctl \
	    $(DESTDIR)$(PREFIX)/share/agentd/logrotate/agentd \
	    $(DESTDIR)$(PREFIX)/lib/systemd/user/agentd.service
	@for d in $(DESTDIR)$(PREFIX)/libexec/agentd $(DESTDIR)$(PREFIX)/share/agentd/logrotate \
	    $(DESTDIR)$(PREFIX)/share/agentd; do [ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || :; done

-include $(LIB_OBJ:.o=.d) $(AGENTD_OBJ:.o=.d) $(BUILD)/agentd/tether-main.d $(AUDITCTL_OBJ:.o=.d) $(TEST_BIN:=.d)
