# evring: a BSD kqueue kernel hosted in a Linux process.
#
#   make                 build the library (libevring.so.0, libevring.a,
#                        libevring.pc, libevring-preload.so), the tests, the
#                        benchmarks, the examples
#   make test            install missing Debian packages, build, check that
#                        sys/kern is freestanding, run every test through kyua;
#                        the last line of output is "N passed, N failed"
#   make check           make test, the man-page lint, an install smoke test,
#                        then the whole suite again built with ASan+UBSan and
#                        with TSan, every fuzz harness for CHECK_FUZZ_SECONDS,
#                        and a total
#   make fuzz            build the libFuzzer harnesses (fuzz/fuzz_*.c) with
#                        clang and run each for FUZZ_SECONDS
#   make run             build and run the benchmark (build/bench/evbench)
#   make soak            build and run the soak test (bench/soak.c) for
#                        SOAK_SECONDS (default 600): every filter, front end,
#                        the ring, fork, signals and closes, with every event
#                        accounted for and RSS and descriptors watched
#   make realprogs       redis-server and nginx from Debian, natively and under
#                        LD_PRELOAD=libevring-preload.so (bench/realprogs.sh;
#                        installs the packages it needs)
#   make install         PREFIX=/usr/local DESTDIR= (also LIBDIR, INCLUDEDIR,
#                        MANDIR)
#   make freestanding    compile sys/kern with -ffreestanding -nostdinc alone
#   make lint-man        mandoc -Tlint -W warning over the man pages
#   make clean
#
# One Makefile serves every build variant.  BUILD names the output directory;
# SANITIZE=asan or SANITIZE=tsan picks sanitizer flags (and a default BUILD of
# build-asan or build-tsan).  "make check" runs the variants by recursive make,
# so "make test SANITIZE=tsan" does by hand what check does for TSan.
#
# Everything is found by wildcard: a new sys/kern/*.c, sys/host/*.c or
# lib/libevring/*.c joins the library, a new tests/<area>/t_*.c becomes a
# test program (tests/<area>/Kyuafile lists t_*.c itself), and every
# bench/*.c and examples/*.c is a program linked with the library.
# lib/preload/*.c joins the library's objects in libevring-preload.so, and
# tests/<area>/p_*.c and pl_*.c are plain programs and shared libraries,
# without libevring, that tests run under LD_PRELOAD.

.DEFAULT_GOAL := all
MAKEFLAGS += --no-print-directory
.SUFFIXES:
.DELETE_ON_ERROR:
SHELL := /bin/bash

VERSION    := 0.1.0
SOMAJOR    := 0

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

# ---------------------------------------------------------------- variants

SANITIZE   ?=
ifeq ($(SANITIZE),)
BUILD      ?= build
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
ZDEFS      ?= -Wl,-z,defs
else
BUILD      ?= build-$(SANITIZE)
# Sanitizer builds use gcc: its -shared links the sanitizer runtime, and
# Debian 12's gcc 12 ships libasan, libubsan and libtsan.
SAN_CC     ?= gcc
CC         := $(SAN_CC)
CFLAGS     ?= -O1 -g
# Sanitizers make gcc emit diagnostics that are not bugs (gcc 12 warns that
# TSan ignores atomic_thread_fence, for one); the normal build keeps -Werror.
WERROR     ?=
# The runtime is resolved when a program loads the library, not at link.
ZDEFS      ?=
ifeq ($(SANITIZE),asan)
SANFLAGS   ?= -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),tsan)
SANFLAGS   ?= -fsanitize=thread
# Files the TSan build compiles uninstrumented: the libc interposers that
# the TSan runtime itself calls (through dlsym(RTLD_NEXT, "sigaction")) while
# it initializes, when instrumented code would crash.
TSAN_EXCLUDE ?= sys/host/host_sig.c
else
$(error SANITIZE must be empty, asan or tsan)
endif
endif

# Kernel assertions (KQ_OWNED() and friends).  The test build turns them on;
# INVARIANTS=0 builds without them.
INVARIANTS ?= 1
INVFLAGS   := $(if $(filter 1 yes,$(INVARIANTS)),-DINVARIANTS)
# Failure points (sys/sys/fail.h, evring_failpoint_set(3)): compiled into
# the test builds, i.e. wherever INVARIANTS is; FAILPOINTS=0 leaves them out.
FAILPOINTS ?= $(INVARIANTS)
INVFLAGS   += $(if $(filter 1 yes,$(FAILPOINTS)),-DEVRING_FAILPOINTS)

# Run-time options for the sanitizer builds' tests (override on the command
# line or in the environment).
ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1
LSAN_OPTIONS  ?= suppressions=$(CURDIR)/mk/lsan.supp:print_suppressions=0
UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
# die_after_fork=0: fork children that use kqueues start host threads; the
# host layer takes and releases its locks around fork(), so this is safe.
# history_size=7: the longest access history, so that the stack of an old
# access in a report can be restored and matched by mk/tsan.supp (a report
# whose other stack is lost cannot be suppressed).
TSAN_OPTIONS  ?= halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:history_size=7:suppressions=$(CURDIR)/mk/tsan.supp
# Test cases kyua runs at once.  1 keeps timing-sensitive cases honest.
KYUA_PARALLELISM ?= 1

# Debian packages the build, the tests and the benchmarks need
# (gnuplot-nox: evbench --plot, without the X11/Qt of "gnuplot").
DEPS_PKGS  := gcc g++ libc6-dev pkg-config libatf-dev kyua \
	      liburing-dev libevent-dev libuv1-dev mandoc gnuplot-nox
DEPS_PKGS  += $(if $(findstring clang,$(CC)),clang libclang-rt-14-dev)
# What "make fuzz" needs besides: clang, and libFuzzer and the sanitizer
# runtimes, which Debian 12 ships in libclang-rt-14-dev (only recommended
# by clang-14's dependencies, so not always there).
FUZZ_DEPS_PKGS := clang libclang-rt-14-dev
# What "make realprogs" runs: real programs and their own load generators.
REALPROGS_PKGS := redis-server redis-tools nginx-light wrk

# ---------------------------------------------------------------- sources

# Concurrency Kit's ck_epoch.c is kernel code too (sys/contrib/ck/README).
KERN_SRCS  := $(wildcard sys/kern/*.c) sys/contrib/ck/src/ck_epoch.c
HOST_SRCS  := $(wildcard sys/host/*.c)
LIB_SRCS   := $(wildcard lib/libevring/*.c)
MAP        := lib/libevring/libevring.map
PRELOAD_SRCS := $(wildcard lib/preload/*.c)
PRELOAD_MAP_IN := lib/preload/preload.map
PC_IN      := lib/libevring/libevring.pc.in
MANPAGES   := $(wildcard lib/libevring/*.[1-9])
PUBLIC_HDRS := event.h evring.h devpoll.h
# Installed as <evring/NAME>: headers that map libc names to evring's.
EVRING_HDRS := $(notdir $(wildcard lib/libevring/evring/*.h))

TEST_SRCS  := $(wildcard tests/*/t_*.c tests/*/h_*.c)
# C++ helper programs (h_*.cc): the installed headers as C++ sees them.
CXX_TEST_SRCS := $(wildcard tests/*/h_*.cc)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
PLAIN_SRCS := $(wildcard tests/*/p_*.c)
PLAIN_LIB_SRCS := $(wildcard tests/*/pl_*.c)
BENCH_SRCS := $(wildcard bench/*.c)
EXAMPLE_SRCS := $(wildcard examples/*.c)

# Host libraries the library links with, detected from its includes.
USES_URING := $(shell grep -l '<liburing\.h>' $(HOST_SRCS) $(LIB_SRCS) \
	      $(wildcard sys/host/*.h lib/libevring/*.h) /dev/null)
USES_CK    := $(shell grep -l '<ck_' $(HOST_SRCS) $(LIB_SRCS) \
	      $(wildcard sys/host/*.h lib/libevring/*.h) /dev/null)
LIB_LIBS   := $(if $(USES_URING),-luring) $(if $(USES_CK),-lck) -pthread

# ---------------------------------------------------------------- flags

WARNFLAGS  := -Wall -Wextra $(WERROR)
DEPFLAGS    = -MMD -MP -MF $@.d

# The kernel: freestanding, only headers under sys/.  Builtins stay on so
# __builtin_memcpy and friends inline; calls the compiler emits to memcpy or
# memset are satisfied by libc when the library is linked.
KERN_CPPFLAGS := -D_KERNEL $(INVFLAGS) -nostdinc -Isys
KERN_CFLAGS    = -std=gnu11 -ffreestanding -fPIC $(WARNFLAGS) $(CFLAGS) \
		 $(OBJ_SANFLAGS)

# The host layer and the library: ordinary userland C.  -iquote, never -I:
# sys/sys/queue.h and sys/sys/file.h must not shadow glibc's.  The staged
# public headers make <sys/event.h> and <sys/evring.h> work too.
# _GNU_SOURCE is defined empty, as "#define _GNU_SOURCE" in a file defines
# it, so that a file which also defines it draws no redefinition warning.
USER_CPPFLAGS := -D_GNU_SOURCE= $(INVFLAGS) -iquote sys -I$(BUILD)/include
USER_CFLAGS    = -std=gnu11 -pthread -fPIC $(WARNFLAGS) $(CFLAGS) \
		 $(OBJ_SANFLAGS)

# The library's objects take the build's sanitizer flags, except those the
# TSan build excludes (private: not inherited by their prerequisites).
OBJ_SANFLAGS   = $(SANFLAGS)
ifeq ($(SANITIZE),tsan)
$(patsubst %.c,$(BUILD)/obj/%.o,$(filter $(TSAN_EXCLUDE),$(wildcard \
	sys/*/*.c lib/*/*.c))): private OBJ_SANFLAGS :=
endif

# Programs (tests, benchmarks, examples) see only the staged public headers.
PROG_CPPFLAGS := -D_GNU_SOURCE= -I$(BUILD)/include
PROG_CFLAGS    = -std=gnu11 -pthread $(WARNFLAGS) $(CFLAGS) $(SANFLAGS)
PROG_LDFLAGS   = $(SANFLAGS) $(LDFLAGS) -L$(BUILD)/lib \
		 -Wl,-rpath,'$$ORIGIN/$(call relroot,$(@D))lib'

# Path from a directory under $(BUILD) back to $(BUILD)/ ("../../").
empty     :=
space     := $(empty) $(empty)
relroot    = $(subst $(space),,$(foreach d,$(subst /, ,$(patsubst $(BUILD)/%,%,$(1))),../))

# Peer event libraries the benchmarks compare with; looked up when a
# benchmark is linked, after "deps" has installed them.
PEER_PKGS  := liburing libevent libuv
PEER_CFLAGS = $(foreach p,$(PEER_PKGS),$(shell pkg-config --cflags $(p) 2>/dev/null))
PEER_LIBS   = $(foreach p,$(PEER_PKGS),$(shell pkg-config --libs $(p) 2>/dev/null))
ATF_CFLAGS  = $(shell pkg-config --cflags atf-c 2>/dev/null)
ATF_LIBS    = $(or $(shell pkg-config --libs atf-c 2>/dev/null),-latf-c)

# ---------------------------------------------------------------- outputs

OBJDIR     := $(BUILD)/obj
KERN_OBJS  := $(KERN_SRCS:%.c=$(OBJDIR)/%.o)
HOST_OBJS  := $(HOST_SRCS:%.c=$(OBJDIR)/%.o)
LIB_OBJS   := $(LIB_SRCS:%.c=$(OBJDIR)/%.o)
ALL_OBJS   := $(KERN_OBJS) $(HOST_OBJS) $(LIB_OBJS)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(OBJDIR)/%.o)

SOREAL     := $(BUILD)/lib/libevring.so.$(VERSION)
SONAME     := libevring.so.$(SOMAJOR)
SOMAJLINK  := $(BUILD)/lib/$(SONAME)
SOLINK     := $(BUILD)/lib/libevring.so
ARCHIVE    := $(BUILD)/lib/libevring.a
PCFILE     := $(BUILD)/lib/pkgconfig/libevring.pc
HDRS       := $(PUBLIC_HDRS:%=$(BUILD)/include/sys/%) \
	      $(EVRING_HDRS:%=$(BUILD)/include/evring/%)
PRELOAD    := $(BUILD)/lib/libevring-preload.so
PRELOAD_MAP := $(BUILD)/lib/libevring-preload.map
LIBRARY    := $(SOREAL) $(SOMAJLINK) $(SOLINK) $(ARCHIVE) $(PCFILE) $(HDRS) \
	      $(PRELOAD)

TESTLIB    := $(if $(TESTLIB_SRCS),$(BUILD)/tests/lib/libtestutil.a)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(OBJDIR)/%.o)
TEST_PROGS := $(TEST_SRCS:%.c=$(BUILD)/%)
CXX_TEST_PROGS := $(CXX_TEST_SRCS:%.cc=$(BUILD)/%)
PLAIN_PROGS := $(PLAIN_SRCS:%.c=$(BUILD)/%)
PLAIN_LIBS := $(PLAIN_LIB_SRCS:%.c=$(BUILD)/%.so)
BENCH_PROGS := $(BENCH_SRCS:%.c=$(BUILD)/%)
EXAMPLE_PROGS := $(EXAMPLE_SRCS:%.c=$(BUILD)/%)
PROBE      := $(BUILD)/mk/probe

# The program "make run" runs: the benchmark, or until it exists a demo.
RUN_PROG   ?= $(firstword $(patsubst %.c,$(BUILD)/%,$(wildcard bench/evbench.c \
	      examples/demo.c examples/*demo*.c bench/*.c examples/*.c)))
RUN_ARGS   ?=

# Every object and program depends on the flags it was built with, so that
# changing CFLAGS, INVARIANTS or SANITIZE rebuilds what they affect.
FLAGSFILE  := $(BUILD)/.flags
FLAGS_SIG   = $(CC) | $(KERN_CPPFLAGS) $(KERN_CFLAGS) | $(USER_CPPFLAGS) \
	      $(USER_CFLAGS) | $(PROG_CFLAGS) | $(LDFLAGS) | $(LIB_LIBS) | \
	      $(if $(filter tsan,$(SANITIZE)),$(TSAN_EXCLUDE))

# ---------------------------------------------------------------- targets

.PHONY: all lib tests bench examples deps test check run install uninstall \
	freestanding lint-man abi-check install-check clean fuzz fuzz-deps \
	FORCE realprogs realprogs-deps soak

all: lib tests bench examples

lib: $(LIBRARY)
# t_preload runs the plain programs under the preload library.
tests: $(TEST_PROGS) $(CXX_TEST_PROGS) $(PLAIN_PROGS) $(PLAIN_LIBS) \
	$(PRELOAD)
bench: $(BENCH_PROGS)
examples: $(EXAMPLE_PROGS)

deps:
	@mk/deps.sh $(DEPS_PKGS)

# Nothing compiles before the packages are in place.
$(ALL_OBJS) $(TESTLIB_OBJS) $(TEST_PROGS) $(BENCH_PROGS) $(EXAMPLE_PROGS) \
$(PROBE) $(SOREAL) $(ARCHIVE) $(PRELOAD_OBJS) $(PRELOAD) $(PLAIN_PROGS) \
$(PLAIN_LIBS) $(CXX_TEST_PROGS): | deps

$(FLAGSFILE): FORCE
	@mkdir -p $(@D)
	@sig='$(FLAGS_SIG)'; [ -f $@ ] && [ "$$(cat $@)" = "$$sig" ] || \
		printf '%s\n' "$$sig" > $@

$(KERN_OBJS): $(OBJDIR)/%.o: %.c $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) $(KERN_CPPFLAGS) $(KERN_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(HOST_OBJS) $(LIB_OBJS) $(PRELOAD_OBJS): $(OBJDIR)/%.o: %.c $(FLAGSFILE) | $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CPPFLAGS) $(USER_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/include/sys/%.h: sys/sys/%.h
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/include/evring/%.h: lib/libevring/evring/%.h
	@mkdir -p $(@D)
	cp $< $@

$(SOREAL): $(ALL_OBJS) $(MAP) $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(MAP) $(ZDEFS) $(SANFLAGS) $(LDFLAGS) \
		$(ALL_OBJS) $(LIB_LIBS)

# The preload library: the same objects plus lib/preload, exporting the
# names of $(MAP) and of $(PRELOAD_MAP_IN) unversioned (see preload.map).
$(PRELOAD_MAP): $(PRELOAD_MAP_IN) $(MAP)
	@mkdir -p $(@D)
	@perl -0777 -pe 's{/\*.*?\*/}{}gs' $(MAP) | \
	    sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*;\)[[:space:]]*$$/\t\t\1/p' \
	    > $@.names
	@sed -e '/@LIBEVRING_NAMES@/{r $@.names' -e 'd;}' $(PRELOAD_MAP_IN) > $@
	@rm -f $@.names

$(PRELOAD): $(ALL_OBJS) $(PRELOAD_OBJS) $(PRELOAD_MAP) $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ -Wl,-soname,$(notdir $@) \
		-Wl,--version-script=$(PRELOAD_MAP) $(ZDEFS) $(SANFLAGS) \
		$(LDFLAGS) $(ALL_OBJS) $(PRELOAD_OBJS) $(LIB_LIBS)

$(SOMAJLINK): $(SOREAL)
	ln -sf $(notdir $<) $@

$(SOLINK): $(SOMAJLINK)
	ln -sf $(notdir $<) $@

$(ARCHIVE): $(ALL_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The .pc file carries the install paths.  Rewritten only when they change.
$(PCFILE): $(PC_IN) FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(strip $(LIB_LIBS))|g' $(PC_IN) > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; \
	 else mv -f $@.tmp $@; echo "generated $@"; fi

# Shared test code (tests/lib/*.c), if any, linked into every test program.
$(TESTLIB_OBJS): $(OBJDIR)/%.o: %.c $(FLAGSFILE) | $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROG_CPPFLAGS) $(ATF_CFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) \
		-c -o $@ $<

$(TESTLIB): $(TESTLIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# Test programs (t_*) and their helper programs (h_*), one source each.
# A test of the hypercalls themselves includes "sys/hostcall.h", which the
# shared library does not export: it is built with the library's INVARIANTS
# and linked with the archive instead, and it is on the host's side of the
# boundary (_EVRING_HOST), which the header refuses to programs.
HC_TEST_SRCS := $(shell grep -l '"sys/hostcall\.h"' $(TEST_SRCS) /dev/null)
HC_TEST_PROGS := $(HC_TEST_SRCS:%.c=$(BUILD)/%)
$(HC_TEST_PROGS): private TEST_CPPFLAGS := $(INVFLAGS) -D_EVRING_HOST \
	-iquote sys
$(HC_TEST_PROGS): private TEST_LIBEVRING = $(ARCHIVE) $(LIB_LIBS)
$(HC_TEST_PROGS): $(ARCHIVE)

$(TEST_PROGS): $(BUILD)/%: %.c $(FLAGSFILE) $(TESTLIB) | $(HDRS) $(SOLINK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CPPFLAGS) $(TEST_CPPFLAGS) \
		$(if $(TESTLIB),-iquote tests/lib) \
		$(ATF_CFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) -o $@ $< \
		$(PROG_LDFLAGS) $(TESTLIB) $(or $(TEST_LIBEVRING),-levring) \
		$(ATF_LIBS) -lutil -lm

$(CXX_TEST_PROGS): $(BUILD)/%: %.cc $(FLAGSFILE) | $(HDRS) $(SOLINK)
	@mkdir -p $(@D)
	$(CXX) -I$(BUILD)/include -std=c++17 -pthread $(WARNFLAGS) $(CFLAGS) \
		$(SANFLAGS) $(DEPFLAGS) -o $@ $< $(PROG_LDFLAGS) -levring

# Plain programs (p_*): the C library's epoll, poll and select, no
# libevring, but the build's sanitizer flags, so that the sanitizer build
# of the preload library can be loaded into them.
$(PLAIN_PROGS): $(BUILD)/%: %.c $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE= $(PROG_CFLAGS) $(DEPFLAGS) -o $@ $< \
		$(SANFLAGS) $(LDFLAGS)

$(PLAIN_LIBS): $(BUILD)/%.so: %.c $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE= -fPIC -shared $(PROG_CFLAGS) $(DEPFLAGS) -o $@ \
		$< $(SANFLAGS) $(LDFLAGS)

$(BENCH_PROGS) $(EXAMPLE_PROGS): $(BUILD)/%: %.c $(FLAGSFILE) | $(HDRS) $(SOLINK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CPPFLAGS) $(PEER_CFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) \
		-o $@ $< $(PROG_LDFLAGS) -levring \
		-Wl,--as-needed $(PEER_LIBS) -lm -Wl,--no-as-needed

# A trivial program built with the build's flags: run-tests.sh runs it first
# to learn whether the sanitizer runtime needs ASLR off or leak checking off
# on this machine.
$(PROBE): mk/probe.c $(FLAGSFILE)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -pthread $(CFLAGS) $(SANFLAGS) -o $@ $< $(LDFLAGS)

# ---------------------------------------------------------------- checks

# sys/kern reaches nothing but sys/: each file compiles alone with no host
# headers, and includes only <sys/...> headers that exist under sys/sys.
freestanding:
	@mk/check-freestanding.sh "$(CC)" $(INVFLAGS)

# Every symbol the version script names is defined by the library, and the
# library exports nothing the script does not name.
abi-check: $(SOREAL) $(PRELOAD)
	@mk/abi-check.sh $(MAP) $(SOREAL)
	@mk/abi-check.sh $(PRELOAD_MAP) $(PRELOAD)

lint-man: | deps
	@mk/lint-man.sh $(MANPAGES)

# Install into a scratch tree and build a program against it with
# pkg-config, shared and static.
install-check: lib | deps
	@rm -rf $(BUILD)/stage
	@$(MAKE) install DESTDIR=$(abspath $(BUILD)/stage) >/dev/null
	@mk/install-check.sh $(abspath $(BUILD)/stage) $(LIBDIR) "$(CC)" $(BUILD)

test: deps freestanding lib tests abi-check $(PROBE)
	@ASAN_OPTIONS='$(ASAN_OPTIONS)' LSAN_OPTIONS='$(LSAN_OPTIONS)' \
	 UBSAN_OPTIONS='$(UBSAN_OPTIONS)' \
	 TSAN_OPTIONS='$(TSAN_OPTIONS)' KYUA_PARALLELISM='$(KYUA_PARALLELISM)' \
	 mk/run-tests.sh $(BUILD) \
	 "$(if $(SANITIZE),$(SANITIZE) ($(SANFLAGS)),normal) build in $(BUILD)" \
	 $(PROBE)

# The normal build's tests, then each sanitizer build's, each with its own
# summary, then every fuzz harness for CHECK_FUZZ_SECONDS from its seed
# corpus (each harness counts as one test); a variant that fails does not
# stop the next.  The last line totals them.
CHECK_FUZZ_SECONDS ?= 20
check: deps
	@rm -f $(BUILD)/test-counts $(BUILD)-asan/test-counts \
		$(BUILD)-tsan/test-counts $(FUZZ_BUILD)/test-counts
	@rc=0; \
	$(MAKE) lint-man || rc=1; \
	$(MAKE) test || rc=1; \
	$(MAKE) install-check || rc=1; \
	$(MAKE) test SANITIZE=asan BUILD=$(BUILD)-asan || rc=1; \
	$(MAKE) test SANITIZE=tsan BUILD=$(BUILD)-tsan || rc=1; \
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) FUZZ_FRESH=-f || rc=1; \
	mk/total.sh $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(FUZZ_BUILD) || rc=1; \
	exit $$rc

# libFuzzer harnesses (fuzz/fuzz_*.c, sharing fuzz/fuzz_input.h): the
# library built with clang and the fuzzer's coverage, ASan and UBSan into
# $(FUZZ_BUILD), each harness linked with it and run for FUZZ_SECONDS by
# mk/run-fuzz.sh, from its seed
# corpus (fuzz/corpus/<target>/, never written) and the units earlier runs
# found ($(FUZZ_BUILD)/corpus/<target>/, where new ones go; FUZZ_FRESH=-f
# empties it first, as "make check" does).  Every harness runs; one summary
# line each, and a crash leaves crash-* in $(FUZZ_BUILD).
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_FRESH   ?=
FUZZ_CC      ?= clang
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		 -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

fuzz-deps:
	@mk/deps.sh $(FUZZ_DEPS_PKGS)

fuzz: deps fuzz-deps
	@$(MAKE) lib BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) ZDEFS= WERROR= \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SANFLAGS)'
	@set -e; mkdir -p $(FUZZ_BUILD)/fuzz; for t in $(FUZZ_TARGETS); do \
		b=$(FUZZ_BUILD)/fuzz/$$t; \
		if [ $$b -nt fuzz/$$t.c ] && [ $$b -nt fuzz/fuzz_input.h ] && \
		    [ $$b -nt $(FUZZ_BUILD)/lib/libevring.so.$(VERSION) ]; then \
			continue; \
		fi; \
		echo "fuzz: building $$t"; \
		$(FUZZ_CC) -O1 -g -fsanitize=fuzzer $(FUZZ_SANFLAGS) \
		    -Wall -Wextra -I$(FUZZ_BUILD)/include -o $$b \
		    fuzz/$$t.c -L$(FUZZ_BUILD)/lib -levring \
		    -Wl,-rpath,'$$ORIGIN/../lib' -pthread; \
	done
	@mk/run-fuzz.sh $(FUZZ_FRESH) $(FUZZ_BUILD) $(FUZZ_SECONDS) \
		$(FUZZ_TARGETS)

# Real programs under the preload library (bench/realprogs.sh; see
# bench/README.md).  REALPROGS_ARGS passes options, e.g. "-r 5" rounds.
realprogs-deps:
	@mk/deps.sh $(REALPROGS_PKGS)

REALPROGS_ARGS ?=
realprogs: deps realprogs-deps lib
	bench/realprogs.sh -p $(PRELOAD) $(REALPROGS_ARGS)

# The soak test (bench/soak.c, bench/README.md): a mixed workload for
# SOAK_SECONDS that fails on any lost, duplicated or unexpected event and on
# a descriptor or memory leak.  SOAK_ARGS passes options (--rate, --cycle).
SOAK_SECONDS ?= 600
SOAK_ARGS  ?=
soak: deps lib $(BUILD)/bench/soak
	$(BUILD)/bench/soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

run: deps lib bench examples
	@if [ -z "$(RUN_PROG)" ]; then \
		echo "make run: no bench/*.c or examples/*.c to run yet" >&2; \
		exit 1; \
	fi
	$(RUN_PROG) $(RUN_ARGS)

# ---------------------------------------------------------------- install

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/sys
	install -m 755 $(SOREAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SOREAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libevring.so
	install -m 644 $(ARCHIVE) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(PCFILE) $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 $(PUBLIC_HDRS:%=sys/sys/%) $(DESTDIR)$(INCLUDEDIR)/sys/
	install -d $(DESTDIR)$(INCLUDEDIR)/evring
	install -m 644 $(EVRING_HDRS:%=lib/libevring/evring/%) \
		$(DESTDIR)$(INCLUDEDIR)/evring/
	@set -e; for m in $(MANPAGES); do \
		s=$${m##*.}; \
		echo "install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SOREAL)) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libevring.so \
		$(DESTDIR)$(LIBDIR)/libevring.a \
		$(DESTDIR)$(LIBDIR)/$(notdir $(PRELOAD)) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libevring.pc \
		$(PUBLIC_HDRS:%=$(DESTDIR)$(INCLUDEDIR)/sys/%) \
		$(EVRING_HDRS:%=$(DESTDIR)$(INCLUDEDIR)/evring/%)
	@for m in $(MANPAGES); do s=$${m##*.}; \
		echo "rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}"; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan build build-asan build-tsan \
		$(FUZZ_BUILD)

FORCE:

-include $(wildcard $(ALL_OBJS:%=%.d) $(OBJDIR)/lib/*/*.o.d \
	$(OBJDIR)/tests/*/*.o.d $(BUILD)/tests/*/*.d $(BUILD)/bench/*.d \
	$(BUILD)/examples/*.d $(BUILD)/mk/*.d)
