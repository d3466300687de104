# agentd — see README.md. `make demo` and `make check` set up a fresh Debian
# machine themselves: build/config.mk is made first (GNU make remakes included
# makefiles before anything else), and making it installs missing packages.

.DEFAULT_GOAL := all

PREFIX  ?= /usr/local
DESTDIR ?=
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
	@{ echo "PKG_CFLAGS = $$(pkg-config --cflags libsodium libcjson libbsd)"; \
	   echo "PKG_LIBS = $$(pkg-config --libs libsodium libcjson libbsd)"; \
	   echo "CHECK_CFLAGS = $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS = $$(pkg-config --libs check)"; } > $@

LIB_SRC    = $(sort $(wildcard lib/*.c))
AGENTD_SRC = $(sort $(wildcard agentd/*.c))
TEST_SRC   = $(sort $(wildcard tests/check_*.c))

LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
AGENTD_OBJ = $(AGENTD_SRC:%.c=$(BUILD)/%.o)
TEST_BIN   = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all check unit integration sanitize demo install clean bench
all: $(BUILD)/bin/agentd

$(BUILD)/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libagentd.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/agentd: $(AGENTD_OBJ) $(BUILD)/libagentd.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libagentd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(BUILD)/tests/%.o: ALL_CFLAGS += $(CHECK_CFLAGS)

# Unit suites (Check, fork mode) then the integration scripts against the real
# ssh-agent/ssh-add/ssh-keygen/sshd, each under a private AGENTD_DIR.
check: unit integration
unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do $$t; done
integration: $(BUILD)/bin/agentd
	@AGENTD=$(abspath $(BUILD)/bin/agentd) tests/run-integration.sh

# The whole check again under ASan+UBSan, in its own build tree.
sanitize:
	$(MAKE) BUILD=build-san SAN=1 check

demo: $(BUILD)/bin/agentd
	@AGENTD=$(abspath $(BUILD)/bin/agentd) ./scripts/demo.sh

bench: $(BUILD)/bin/agentd
	@AGENTD=$(abspath $(BUILD)/bin/agentd) ./bench/start-latency.sh

install: $(BUILD)/bin/agentd
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/bin/agentd $(DESTDIR)$(PREFIX)/bin/agentd
	install -m 0644 docs/agentd.1 $(DESTDIR)$(PREFIX)/share/man/man1/agentd.1

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(AGENTD_OBJ:.o=.d) $(TEST_BIN:=.d)
