# heaplab - memory-allocator research toolkit
#
#   make                 build build/libheaplab.a, build/heaplab, build/libheaplab-malloc.so and
#                        build/libheaplab-record.so (the recorder, heaplab record)
#   make demo            install what is missing, build, replay the traces in $(TRACES), draw every chart
#                        (the scaling sweep included: about 4 minutes on two cores)
#   make plots           the charts of the demo replays, every kind, both backends, in $(OUT)/plots/
#   make scaling         ops/s against live blocks (a few minutes): $(OUT)/scaling.csv and its chart
#   make test            install what is missing, build and run the Check suites
#   make bench           the benchmark (a few minutes; never a test): throughput of every policy, with
#                        and without its front cache, and of glibc, jemalloc, mimalloc, tcmalloc on the
#                        malloc-lab and bundled traces, the scaling sweep and callgrind's instructions per
#                        operation, as ratios to glibc over BENCH_ROUNDS rounds: bench/results/summary.md,
#                        its CSVs and charts (not committed).  BENCH_QUICK=1: a one-minute smoke run;
#                        the other knobs are at the top of scripts/bench
#   make bench-preload   the drop-in malloc's benchmark (about 10 minutes; never a test): wall time and
#                        peak RSS of python3, sqlite3, perl and gcc runs under every policy (heaplab run)
#                        and under glibc, jemalloc, mimalloc, tcmalloc, as ratios to glibc over
#                        BENCH_ROUNDS interleaved rounds: bench/results/preload.md and preload.csv.
#                        BENCH_QUICK=1: a smoke run of a minute and a half; the knobs are at the top of
#                        scripts/bench-preload
#   make traces          regenerate the generated traces in traces/ (traces/gen.list)
#   make examples        build the example policy plugin(s) in $(BUILD)/examples/
#   make SANITIZER=address|undefined|thread [test]   the same in build-$(SANITIZER)/
#   make layers          check that no #include climbs out of its layer (make test runs it)
#   make fuzz            libFuzzer targets (clang; not in CI): the trace parser, and the replay of
#                        what it accepts under every policy with the checker on, FUZZ_SECONDS each
#                        (default 60), from the seeds in tests/fuzz/corpus/; build-fuzz/ holds the
#                        grown corpora and any crash (scripts/fuzz says more)
#   make V=1             show the compile lines
#
# Layers depend one way, and the include paths below make it so: a file sees
# the headers of its own layer and of the layers under it, nothing else, so a
# back-edge is a compile error.
#
#   preload              the drop-in malloc (build/libheaplab-malloc.so): glibc's malloc API
#                        over one heap; core, policies and lib again, position-independent
#   harness/cli          the heaplab command: main.c and one cmd_*.c a subcommand
#   harness/conformance  the conformance suite (heaplab selftest, plugins, tests)
#   harness/plot         heaplab plot's pieces: CSV and table input, the heap-map
#                        raster, the matplotlib/gnuplot launcher
#   harness/adapters     allocators behind the replay's struct hl_alloc: production
#                        allocators (baseline), malloc-lab solutions and their memlib
#   harness/replay       the replay engine: traces, generators, replay, runner,
#                        metrics, output
#   harness/util         helpers every harness layer shares
#   policies             the placement policies, against include/heaplab/policy.h
#   core                 the heap: blocks, sources, the mmap path, cache, checker
#   lib                  what any layer may use: the red-black tree, number parsing
#                        and messages without allocation (text.c)
#   include              the public headers

SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD ?= build
SANFLAGS :=
else
BUILD ?= build-$(SANITIZER)
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
ifeq ($(SANITIZER),undefined)
SANFLAGS += -fno-sanitize-recover=all
endif
endif

CC ?= cc
OPT ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Iinclude

# each layer's include path: its own folder and those of the layers under it
INC_lib := -Ilib
INC_core := -Icore
INC_policies := -Ipolicies -Ilib
INC_util := -Iharness/util -Ilib
INC_replay := -Iharness/replay $(INC_util)
INC_adapters := -Iharness/adapters $(INC_replay)
INC_conformance := -Iharness/conformance $(INC_replay)
INC_plot := -Iharness/plot $(INC_replay)
INC_cli := -Iharness/cli $(INC_adapters) -Iharness/conformance -Iharness/plot
INC_preload := -Ipreload -Ilib
# the tests are white-box: every layer's headers
INC_tests := -Itests $(INC_core) $(INC_policies) $(INC_cli)
INC_bench := $(INC_cli)

$(BUILD)/lib/%.o: CPPFLAGS += $(INC_lib)
$(BUILD)/core/%.o: CPPFLAGS += $(INC_core)
$(BUILD)/policies/%.o: CPPFLAGS += $(INC_policies)
$(BUILD)/harness/util/%.o: CPPFLAGS += $(INC_util)
$(BUILD)/harness/replay/%.o: CPPFLAGS += $(INC_replay)
$(BUILD)/harness/adapters/%.o: CPPFLAGS += $(INC_adapters)
$(BUILD)/harness/conformance/%.o: CPPFLAGS += $(INC_conformance)
$(BUILD)/harness/plot/%.o: CPPFLAGS += $(INC_plot)
$(BUILD)/harness/cli/%.o: CPPFLAGS += $(INC_cli)
$(BUILD)/tests/%.o: CPPFLAGS += $(INC_tests)
$(BUILD)/bench/%.o: CPPFLAGS += $(INC_bench)
$(BUILD)/pic/lib/%.o: CPPFLAGS += $(INC_lib)
$(BUILD)/pic/core/%.o: CPPFLAGS += $(INC_core)
$(BUILD)/pic/policies/%.o: CPPFLAGS += $(INC_policies)
$(BUILD)/pic/preload/%.o: CPPFLAGS += $(INC_preload)
DEPFLAGS = -MMD -MP
ALL_CFLAGS = $(WARN) $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS += -lpthread -lm -lz -ldl
# policy plugins (dlopen'ed) call back into core: the executables export it
EXPORT_LDFLAGS := -rdynamic
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

# The CS:APP malloc-lab traces live beside the project when present; they are
# not ours and are never copied in.  Otherwise the project's own traces: the
# generated ones and the recorded ones (.rep.gz, scripts/record-traces).
HEAPLAB_MALLOCLAB ?= ../shared/traces/malloclab
ifneq ($(wildcard $(HEAPLAB_MALLOCLAB)/*.rep),)
TRACES ?= $(sort $(wildcard $(HEAPLAB_MALLOCLAB)/*.rep))
else
TRACES ?= $(sort $(wildcard traces/*.rep traces/*.rep.gz))
endif

CORE_SRC := $(sort $(wildcard lib/*.c core/*.c))
POLICY_SRC := $(sort $(wildcard policies/*.c))
HARNESS_SRC := $(filter-out harness/cli/main.c,$(sort $(wildcard harness/*/*.c)))
TEST_SRC := $(sort $(wildcard tests/*.c))
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
# the recorder is a library of its own (libheaplab-record.so), not part of the drop-in malloc
RECORD_SRC := preload/record.c
PRELOAD_SRC := $(filter-out $(RECORD_SRC),$(sort $(wildcard preload/*.c)))

LIB := $(BUILD)/libheaplab.a
HARNESS_LIB := $(BUILD)/libheaplab-harness.a
BIN := $(BUILD)/heaplab
TEST_BIN := $(BUILD)/tests/run_tests
PRELOAD_LIB := $(BUILD)/libheaplab-malloc.so
RECORD_LIB := $(BUILD)/libheaplab-record.so

LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRC) $(POLICY_SRC))
HARNESS_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(HARNESS_SRC))
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))
EXAMPLES := $(patsubst %.c,$(BUILD)/%.so,$(EXAMPLE_SRC))
BENCH_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(BENCH_SRC))
BENCH_TOOLS := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRC))
PIC_OBJ := $(patsubst %.c,$(BUILD)/pic/%.o,$(CORE_SRC) $(POLICY_SRC) $(PRELOAD_SRC))
RECORD_OBJ := $(patsubst %.c,$(BUILD)/pic/%.o,$(RECORD_SRC) lib/text.c)

OUT ?= out

.PHONY: all test demo plots scaling bench bench-preload deps layers clean traces examples fuzz
all: $(BIN) $(PRELOAD_LIB) $(RECORD_LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# heaplab --version: VERSION, and the commit when built from a git clone
# (the header is rewritten only when that changes)
VERSION_TEXT = $(shell cat VERSION)$(shell git describe --always --dirty --match=none 2>/dev/null | sed 's/^/ (git /; s/$$/)/')
$(BUILD)/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define HEAPLAB_VERSION "%s"\n' "$(VERSION_TEXT)" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/harness/cli/cli.o: $(BUILD)/version.h
$(BUILD)/harness/cli/cli.o: CPPFLAGS += -I$(BUILD)
.PHONY: FORCE
FORCE:

# heaplab plot runs the scripts in plots/ (HEAPLAB_PLOTS overrides at run time)
$(BUILD)/harness/plot/backend.o: CPPFLAGS += -DHEAPLAB_PLOTS_DIR='"$(CURDIR)/plots"'

# The drop-in malloc: core, policies and lib compiled again, position-
# independent and hidden (only preload/'s exports leave the library), with
# gcc's knowledge of malloc switched off, which would otherwise turn the
# library's malloc + memset into a call to calloc - its own.  Under
# SANITIZER=address or thread the library is built without it: those
# runtimes replace malloc themselves and must be loaded first, so an
# instrumented malloc could not be preloaded into an ordinary program.
PIC_CFLAGS := -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections \
	-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free \
	-fno-builtin-aligned_alloc -fno-builtin-posix_memalign
PRELOAD_SANFLAGS := $(if $(filter undefined,$(SANITIZER)),$(SANFLAGS))
PRELOAD_CFLAGS = $(WARN) $(OPT) $(PRELOAD_SANFLAGS) $(CFLAGS) $(PIC_CFLAGS)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(PRELOAD_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(PRELOAD_LIB): $(PIC_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) $(PRELOAD_CFLAGS) $(LDFLAGS) -shared -Wl,--gc-sections -Wl,--no-undefined -o $@ $^ -lpthread

# the recorder (heaplab record): glibc's malloc API forwarded to glibc, each
# call logged; lib/text.c is all it takes from the project
$(RECORD_LIB): $(RECORD_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) $(PRELOAD_CFLAGS) $(LDFLAGS) -shared -Wl,--gc-sections -Wl,--no-undefined -o $@ $^ -lpthread

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) -I$(BUILD)/tests $(CHECK_CFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# the list of suites, from the make_<area>_suite definitions in tests/check_*.c
$(BUILD)/tests/suites.h: $(filter tests/check_%.c,$(TEST_SRC))
	@mkdir -p $(dir $@)
	$(Q){ printf '#define HEAPLAB_SUITES(X) \\\n'; \
	  sed -n 's/^Suite \*make_\([a-z0-9_]*\)_suite(void)$$/    X(\1) \\/p' $^; echo; } > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/run_tests.o: $(BUILD)/tests/suites.h
# the preload suite links libheaplab.a into a program of its own: with the
# flags the library was built with
$(BUILD)/tests/check_preload.o: CPPFLAGS += -DHEAPLAB_SANFLAGS='"$(SANFLAGS)"'

$(LIB): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HARNESS_LIB): $(HARNESS_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/harness/cli/main.o $(HARNESS_LIB) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(EXPORT_LDFLAGS) -o $@ $^ $(LDLIBS)

# malloc-lab solutions (-p mm:FILE): heaplab compiles them against
# include/malloclab (HEAPLAB_MM_INCLUDE overrides at run time); the lab's
# memlib functions reach them through EXPORT_LDFLAGS, as core does plugins
$(BUILD)/harness/adapters/mm_build.o: CPPFLAGS += -DHEAPLAB_MALLOCLAB_INCLUDE='"$(CURDIR)/include/malloclab"'

$(TEST_BIN): $(TEST_OBJ) $(HARNESS_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(EXPORT_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# a plugin sees only the public headers, as one built outside the tree does
$(BUILD)/examples/%.so: examples/%.c include/heaplab/policy.h include/heaplab/heap.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(WARN) $(OPT) $(SANFLAGS) $(CFLAGS) -Iinclude -shared -fPIC -o $@ $<

examples: $(EXAMPLES)

# the benchmark's helper programs (bench/*.c), linked like the heaplab command
.SECONDARY: $(BENCH_OBJ)
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(HARNESS_LIB) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps

# libFuzzer: the libraries again in build-fuzz/, instrumented for coverage
# and under ASan and UBSan, and one program per tests/fuzz/fuzz_*.c
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) SANFLAGS="$(FUZZ_SANFLAGS)" \
	    CFLAGS="-DHL_TRACE_MAX_LINE=64" $(FUZZ_TARGETS)
	@scripts/fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(HARNESS_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(INC_tests) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the include paths keep each layer to its own headers and those under it;
# a relative path ("../core/core.h") would walk around them
layers:
	@if grep -rn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.\./' lib core policies preload harness; then \
	    echo "make layers: an #include climbs out of its layer (use the layer's include path)" >&2; exit 1; fi

test: deps layers
	@$(MAKE) --no-print-directory $(BIN) $(TEST_BIN) $(PRELOAD_LIB) $(RECORD_LIB) examples
	@HEAPLAB_BIN=$(abspath $(BIN)) HEAPLAB_MALLOCLAB=$(abspath $(HEAPLAB_MALLOCLAB)) \
		HEAPLAB_SRCDIR=$(CURDIR) $(TEST_BIN)

# the main job: every policy and the production allocators on $(TRACES),
# the table on the terminal, every chart from the same run, then the
# scaling sweep and its chart
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@PLOTS_SCALING_NEXT=1 scripts/plots $(BIN) $(OUT) $(TRACES)
	@echo
	@echo "make demo: the scaling sweep (a few minutes; make scaling runs it alone)"
	@scripts/scaling $(BIN) $(OUT)
	@echo
	@echo "make demo: the table is above; every chart, both backends, PNG and SVG: $(OUT)/plots/"

# traces/gen.list: each line a file and the `heaplab gen` arguments that
# make it; the gen suite checks the committed files against the same list.
traces: $(BIN)
	$(Q)sed -e 's/#.*//' traces/gen.list | while read -r file args; do \
	    [ -n "$$file" ] || continue; \
	    printf '  %-6s %s\n' GEN "traces/$$file"; \
	    $(BIN) gen $$args -o "traces/$$file" || exit 1; \
	done

plots: deps
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/plots $(BIN) $(OUT) $(TRACES)

scaling: deps
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/scaling $(BIN) $(OUT)

# a benchmark, never a test: it prints and writes figures, nothing fails on a time
bench: deps
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_TOOLS)
	@HEAPLAB_MALLOCLAB=$(HEAPLAB_MALLOCLAB) CC="$(CC)" scripts/bench $(BIN) bench/results

# whole programs under the drop-in malloc and the production allocators: a
# benchmark too, nothing fails on a time
bench-preload: deps
	@$(MAKE) --no-print-directory $(BIN) $(PRELOAD_LIB)
	@CC="$(CC)" scripts/bench-preload $(BIN) bench/results

clean:
	rm -rf build build-address build-undefined build-thread build-fuzz

-include $(LIB_OBJ:.o=.d) $(HARNESS_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(RECORD_OBJ:.o=.d) $(BUILD)/harness/cli/main.d
