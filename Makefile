# anonetl: one plain Makefile.
#
#   make            build ./anonetl
#   make test       unit tests (ASan+UBSan, leaks fail) and integration tests
#   make demo       throwaway clusters, demo data, a real run, a before/after sample
#   make bench      throughput against the raw COPY pipe (same run)
#   make fuzz       libFuzzer targets for every parser
#   make format     apply .clang-format;  make format-check  verify it
#   make install    binary and man page under $(PREFIX)

CC      ?= cc
PREFIX  ?= /usr/local
PKGS    := libpq yaml-0.1 libcurl libxml-2.0 jansson libpcre2-8 openssl
WARN    := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wshadow -Wimplicit-fallthrough -Wno-format-nonliteral -Wno-format-truncation
CPPFLAGS_PG := -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(CPPFLAGS_PG) -I. \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpq -lyaml -lcurl -lxml2 -ljansson -lpcre2-8 -lssl -lcrypto) -lm -lpthread

ANON_SRC  := $(sort $(wildcard anonymise/*.c))
INFRA_SRC := $(sort $(wildcard infra/*.c))
ETL_SRC   := $(sort $(filter-out etl/main.c,$(wildcard etl/*.c)))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
GEN       := build/gen/sql_bootstrap.h

# Two builds of the same sources: release (the binary) and asan (unit tests).
define objs
$(patsubst %.c,build/$(1)/%.o,$(2))
endef

REL_LIBS  := build/rel/libetl.a build/rel/libinfra.a build/rel/libanonymise.a
ASAN_LIBS := build/asan/libetl.a build/asan/libinfra.a build/asan/libanonymise.a
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

.PHONY: all deps test unit integration demo bench fuzz format format-check install clean
all: anonetl

deps:
	@./deploy/install-deps.sh

$(GEN): sql/target-bootstrap.sql tests/lib/embed.sh
	@mkdir -p $(dir $@)
	sh tests/lib/embed.sh sql_bootstrap $< > $@

build/rel/%.o: %.c $(GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -Ibuild/gen -MMD -MP -c $< -o $@

build/asan/%.o: %.c $(GEN)
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(ALL_CFLAGS) -Ibuild/gen $(ASAN_FLAGS) -MMD -MP -c $< -o $@

define static_libs
build/$(1)/libanonymise.a: $(call objs,$(1),$(ANON_SRC))
	@rm -f $$@; ar rcs $$@ $$^
build/$(1)/libinfra.a: $(call objs,$(1),$(INFRA_SRC))
	@rm -f $$@; ar rcs $$@ $$^
build/$(1)/libetl.a: $(call objs,$(1),$(ETL_SRC))
	@rm -f $$@; ar rcs $$@ $$^
endef
$(eval $(call static_libs,rel))
$(eval $(call static_libs,asan))

anonetl: build/rel/etl/main.o $(REL_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(REL_LIBS) $(LIBS)

build/asan/anonetl: build/asan/etl/main.o $(ASAN_LIBS)
	@echo "  LD asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBS) $(LIBS)

# tests/preflight/credentials.sh: drives the AWS credential chain and signed client.
build/asan/aws_probe: build/asan/tests/preflight/aws_probe.o $(ASAN_LIBS)
	$(CC) $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBS) $(LIBS)

build/asan/tests/%: build/asan/tests/unit/%.o $(ASAN_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBS) $(LIBS) -lcmocka

test: deps
	@$(MAKE) --no-print-directory anonetl build/asan/anonetl $(UNIT_BINS)
	@./tests/run.sh

unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BINS)
	@./tests/run.sh --unit

integration: deps
	@$(MAKE) --no-print-directory anonetl build/asan/anonetl
	@./tests/run.sh --integration

demo:
	@./deploy/install-deps.sh --no-moto
	@$(MAKE) --no-print-directory anonetl
	@./deploy/demo.sh

bench: deps
	@$(MAKE) --no-print-directory anonetl build/rel/rule_bench
	@./tests/bench/bench.sh

# Per-rule costs on real values, text and binary paths (make bench, part rules).
build/rel/rule_bench: tests/bench/rule_bench.c $(REL_LIBS)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -Ibuild/gen -o $@ $< $(REL_LIBS) $(LIBS)

FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
build/fuzz/%: tests/fuzz/%.c $(ANON_SRC) $(INFRA_SRC) $(ETL_SRC) $(GEN)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS_PG) -I. -Ibuild/gen \
	    $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(ANON_SRC) $(INFRA_SRC) $(ETL_SRC) $(LIBS)

fuzz: deps $(FUZZ_BINS)
	@./tests/fuzz/run.sh $(FUZZ_BINS)

format:
	clang-format -i $(ANON_SRC) $(INFRA_SRC) $(ETL_SRC) etl/main.c */*.h tests/unit/*.c

format-check:
	clang-format --dry-run --Werror $(ANON_SRC) $(INFRA_SRC) $(ETL_SRC) etl/main.c */*.h

install: anonetl
	install -D -m 0755 anonetl $(DESTDIR)$(PREFIX)/bin/anonetl
	if [ -f deploy/anonetl.1 ]; then install -D -m 0644 deploy/anonetl.1 $(DESTDIR)$(PREFIX)/share/man/man1/anonetl.1; fi

clean:
	rm -rf build anonetl

-include $(shell find build -name '*.d' 2>/dev/null)
