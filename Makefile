# Tandem - a minimal 32-bit x86 microkernel.   `make help` lists the targets.
#
# Everything is built into build/.  The kernel is compiled freestanding for
# i686 with the host's gcc (-m32) and linked with GNU ld; it uses no libgcc,
# so 64-bit division is avoided in kernel code (lib/format.c has its own).

# ---- Settings a user may change --------------------------------------------
# bytes per thread kernel-stack block: 4096, 8192 or 16384, the sizes the tests
# run with (KSTACK_BENCH_ONLY=1 allows any power of two >= 4096 for a kernel
# that only runs `bench`, as mk/bench.mk's guest kernel does; it refuses `test`)
KSTACK_SIZE  ?= 8192
KSTACK_BENCH_ONLY ?= 0
# guest memory for run and test
QEMU_MEM     ?= 128M
# 1: a VGA window for `make run` (default: headless, serial on the terminal)
GUI          ?= 0
# 1: compile out the debug checks (red zones, poisoning, caller records)
RELEASE      ?= 0
# 1: kfastmalloc refuses (NULL) instead of spilling to the heap (also: boot word kfast=strict)
KFAST_STRICT ?= 0
# seconds before a hung test boot counts as failed
TEST_TIMEOUT ?= 300
# test jobs run at once (default: one per CPU)
TEST_PARALLEL ?= $(shell nproc 2>/dev/null || echo 1)
# seconds per target for `make fuzz`
FUZZ_TIME    ?= 60

# Settings that cannot work are refused here, with the reason (config.h and
# kfast.h refuse them again for anything that includes them).
ifeq ($(filter 4096 8192 16384,$(KSTACK_SIZE))$(filter 1,$(KSTACK_BENCH_ONLY)),)
$(error KSTACK_SIZE=$(KSTACK_SIZE): use 4096, 8192 or 16384, the sizes every test runs with \
  (KSTACK_BENCH_ONLY=1 allows other powers of two for a kernel that only runs the benchmarks))
endif
ifeq ($(KFAST_STRICT):$(KSTACK_SIZE),1:4096)
$(error KFAST_STRICT=1 with KSTACK_SIZE=4096: a 4096-byte block has no page the arena can claim, \
  so a strict arena would refuse every allocation; use 8192 or 16384)
endif

.SECONDEXPANSION:
.DEFAULT_GOAL := all
BUILD := build
# V=1 shows every command; by default each step prints one short line.
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2))
DEBUG := $(if $(filter 1,$(RELEASE)),0,1)

CC      := gcc
LD      := ld
NASM    := nasm
PYTHON  := python3
QEMU    := qemu-system-i386

# Objects depend on this stamp, which changes only when the configuration
# does, so `make KSTACK_SIZE=4096` rebuilds exactly what it must.
CONFIG := KSTACK_SIZE=$(KSTACK_SIZE) TANDEM_DEBUG=$(DEBUG) KFAST_STRICT=$(KFAST_STRICT) TANDEM_BENCH_ONLY=$(KSTACK_BENCH_ONLY)
$(shell mkdir -p $(BUILD) && (echo '$(CONFIG)' | cmp -s - $(BUILD)/config.stamp || echo '$(CONFIG)' > $(BUILD)/config.stamp))
STAMP := $(BUILD)/config.stamp
CONFIG_DEFS := -DKSTACK_SIZE=$(KSTACK_SIZE) -DTANDEM_DEBUG=$(DEBUG) -DKFAST_STRICT=$(KFAST_STRICT) \
               -DTANDEM_BENCH_ONLY=$(KSTACK_BENCH_ONLY)

GCC_INCLUDE := $(shell $(CC) -m32 -print-file-name=include)
WARNINGS    := -Wall -Wextra -Werror
# The kernel has its own runtimes for the stack protector (kernel/
# stack_protector.c) and, in debug builds, UBSan (kernel/ubsan.c).
UBSAN   := $(if $(filter 1,$(DEBUG)),-fsanitize=undefined)
KCFLAGS := -m32 -march=i686 -std=gnu11 -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
           -fno-pic -fno-pie -fstack-protector-strong -mstack-protector-guard=global \
           -fno-omit-frame-pointer \
           -fno-tree-loop-distribute-patterns -mgeneral-regs-only -mpreferred-stack-boundary=2 \
           -O2 -g $(WARNINGS) -Wmissing-prototypes -Iinclude $(CONFIG_DEFS) -MMD -MP
# The assembly takes its constants from build/include/asm_offsets.inc
# (kernel/entry/asm_offsets.c), which holds the configuration too.
NASMFLAGS := -f elf32 -g -F dwarf -Iinclude/ -I$(BUILD)/include/
LDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack

# ---- Kernel -----------------------------------------------------------------
# Constants shared with the assembly, generated from the C definitions:
# asm_offsets.c, compiled to assembly, leaves `->NAME VALUE` lines that
# become NASM %defines (never linked).
ASM_OFFSETS_C   := kernel/entry/asm_offsets.c
ASM_OFFSETS_INC := $(BUILD)/include/asm_offsets.inc
# Two kernels from the same objects: build/tandem-test.elf links the suites
# (tests/kernel/) and the benchmarks (kernel/bench.c) and boots for `make
# test`, `make fuzz`, the GDB tests and `make bench`; build/tandem.elf, the
# one `make run` and `make debug` boot, links kernel/no_tests.c instead, so
# the words `test` and `bench` fail there with a line saying why.
KERNEL_TEST_C   := $(sort $(wildcard tests/kernel/*.c)) kernel/bench.c kernel/bench_scaling.c
KERNEL_NOTEST_C := kernel/no_tests.c
KERNEL_C   := $(filter-out $(KERNEL_TEST_C) $(KERNEL_NOTEST_C) $(ASM_OFFSETS_C),$(sort $(wildcard boot/*.c kernel/*.c kernel/*/*.c lib/*.c)))
KERNEL_ASM := $(sort $(wildcard boot/*.asm lib/*.asm kernel/*/*.asm))
KERNEL_OBJ := $(KERNEL_C:%.c=$(BUILD)/kernel/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/kernel/%.o)
KERNEL_OBJ_tandem      := $(KERNEL_OBJ) $(KERNEL_NOTEST_C:%.c=$(BUILD)/kernel/%.o)
KERNEL_OBJ_tandem-test := $(KERNEL_OBJ) $(KERNEL_TEST_C:%.c=$(BUILD)/kernel/%.o)
KERNELS    := tandem tandem-test
ifneq ($(words $(KERNEL_OBJ_tandem-test)),$(words $(sort $(KERNEL_OBJ_tandem-test))))
$(error a .c and a .asm file share a name, and so an object file: $(sort $(foreach o,$(KERNEL_OBJ_tandem-test),$(if $(filter-out 1,$(words $(filter $(o),$(KERNEL_OBJ_tandem-test)))),$(o)))))
endif

# Both kernels' objects, one a line, for tools/linkgraph.py (rewritten only
# when the list changes).
LINKGRAPH_OBJ := $(sort $(KERNEL_OBJ_tandem) $(KERNEL_OBJ_tandem-test))
$(shell (printf '%s\n' $(LINKGRAPH_OBJ) | cmp -s - $(BUILD)/kernel.objs || printf '%s\n' $(LINKGRAPH_OBJ) > $(BUILD)/kernel.objs))

$(BUILD)/kernel/%.o: %.c $(STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(KCFLAGS) $(if $(filter kernel/ubsan.c,$<),,$(UBSAN)) -c $< -o $@

# C in boot/ runs before paging and before the CPU is known to be an i686:
# i386 code, no stack protector (its guard is not set yet), no UBSan.
BOOT_CFLAGS = $(filter-out -march=% -fstack-protector-strong -mstack-protector-guard=global,$(KCFLAGS)) \
              -march=i386 -fno-stack-protector
$(BUILD)/kernel/boot/%.o: boot/%.c $(STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(BOOT_CFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o: %.asm $(STAMP) $(ASM_OFFSETS_INC)
	@mkdir -p $(@D)
	$(call say,NASM,$<)
	$(Q)$(NASM) $(NASMFLAGS) -I$(<D)/ -MD $(@:.o=.d) -MP $< -o $@

$(ASM_OFFSETS_INC): $(ASM_OFFSETS_C) $(STAMP)
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)$(CC) $(KCFLAGS) -MT $@ -MF $(@:.inc=.d) -S $< -o $(@:.inc=.s)
	$(Q){ echo '; Generated from $< by the Makefile: do not edit.'; \
	  sed -n 's/^[[:space:]]*\.ascii[[:space:]]*"->\([A-Za-z0-9_]*\) \([0-9]*\)"$$/%define \1 \2/p' $(@:.inc=.s); \
	} > $@.tmp && mv $@.tmp $@

# Two link passes: the first with an empty symbol table, whose symbols fill
# the second.  .ksyms is last in linker.ld, so no other address moves.
$(BUILD)/ksyms-empty.c: tools/gen_ksyms.py
	$(Q)$(PYTHON) tools/gen_ksyms.py < /dev/null > $@
$(KERNELS:%=$(BUILD)/%.pass1.elf): $(BUILD)/%.pass1.elf: $$(KERNEL_OBJ_$$*) $(BUILD)/ksyms-empty.o linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(LDFLAGS) -T linker.ld -o $@ $(KERNEL_OBJ_$*) $(BUILD)/ksyms-empty.o
$(KERNELS:%=$(BUILD)/%.ksyms.c): $(BUILD)/%.ksyms.c: $(BUILD)/%.pass1.elf tools/gen_ksyms.py
	$(Q)nm -n $< | $(PYTHON) tools/gen_ksyms.py > $@
$(KERNELS:%=$(BUILD)/%.ksyms.o) $(BUILD)/ksyms-empty.o: %.o: %.c $(STAMP)
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@
$(KERNELS:%=$(BUILD)/%.elf): $(BUILD)/%.elf: $(BUILD)/%.pass1.elf $(BUILD)/%.ksyms.o
	$(call say,LD,$@)
	$(Q)$(LD) $(LDFLAGS) -T linker.ld -o $@ $(KERNEL_OBJ_$*) $(BUILD)/$*.ksyms.o
	@[ "$$(nm $@ | grep ' __ksyms_start$$')" = "$$(nm $< | grep ' __ksyms_start$$')" ] || \
	  { echo "ksyms: the second link moved the image"; rm -f $@; exit 1; }

# ---- User programs (Multiboot modules) ------------------------------------
# Every user/NAME.c is a program, linked with the runtime in user/lib/ and the
# shared lib/ at 0x00400000 (user/user.ld).  init is module 0; it starts the
# others.
UCFLAGS := -m32 -march=i686 -std=gnu11 -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
           -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer -mgeneral-regs-only \
           -O2 -g $(WARNINGS) -Iinclude -Iuser/lib -DTANDEM_USER $(CONFIG_DEFS) -MMD -MP
USER_PROGRAMS := $(sort $(patsubst user/%.c,%,$(wildcard user/*.c)))
USER_RUNTIME  := $(patsubst %.c,$(BUILD)/user/%.o,$(wildcard user/lib/*.c) lib/format.c lib/string.c) \
                 $(patsubst %.asm,$(BUILD)/user/%.o,$(wildcard user/lib/*.asm))
MODULES := $(addprefix $(BUILD)/user/bin/,$(filter init,$(USER_PROGRAMS)) $(filter-out init,$(USER_PROGRAMS)))
# Changes when a program is added or removed, so the ISOs follow the list.
$(shell (echo '$(USER_PROGRAMS)' | cmp -s - $(BUILD)/modules.stamp || echo '$(USER_PROGRAMS)' > $(BUILD)/modules.stamp))

$(BUILD)/user/%.o: %.c $(STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) -c $< -o $@
$(BUILD)/user/%.o: %.asm $(STAMP)
	@mkdir -p $(@D)
	$(call say,NASM,$<)
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@
# Keep every object: make would otherwise delete some as intermediates.
.SECONDARY:
# The drivers (user/drv_*.c) also link their shared code in user/drv/ (the
# decoders the host tests test, and the character devices' server loop).
DRV_RUNTIME := $(patsubst %.c,$(BUILD)/user/%.o,$(wildcard user/drv/*.c))
$(BUILD)/user/bin/drv_%: $(BUILD)/user/user/drv_%.o $(USER_RUNTIME) $(DRV_RUNTIME) user/user.ld
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(LD) $(LDFLAGS) -T user/user.ld -o $@ $< $(USER_RUNTIME) $(DRV_RUNTIME)
# A program may have parts of its own: user/NAME/*.c, linked into NAME only.
user_parts = $(patsubst %.c,$(BUILD)/user/%.o,$(wildcard user/$(1)/*.c))
$(BUILD)/user/bin/%: $(BUILD)/user/user/%.o $$(call user_parts,$$*) $(USER_RUNTIME) user/user.ld
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(LD) $(LDFLAGS) -T user/user.ld -o $@ $< $(call user_parts,$*) $(USER_RUNTIME)
# Named as targets (their recipe is the pattern rule's), so that make counts
# them among the files that ought to exist when it picks a link rule: else an
# object whose .d file is not there yet can make it pick the rule without it.
$(DRV_RUNTIME) $(foreach p,$(USER_PROGRAMS),$(call user_parts,$(p))):

# ---- ISO ------------------------------------------------------------------
# build/tandem.iso boots the system (menu entry 0, entry 1 runs the tests
# with the test kernel); build/tandem-test.iso is the same image with entry 1
# as its default.
define make_iso
	@rm -rf $(BUILD)/$(1) && mkdir -p $(BUILD)/$(1)/boot/grub
	$(call say,ISO,$@)
	$(Q)cp $(BUILD)/tandem.elf $(BUILD)/tandem-test.elf $(MODULES) $(BUILD)/$(1)/boot/
	$(Q)sed -e 's/@DEFAULT@/$(2)/' -e 's/@TIMEOUT@/$(3)/' \
	    -e 's|@MODULES@|$(foreach m,$(MODULES),    module /boot/$(notdir $(m)) $(basename $(notdir $(m)))\n)|' \
	    iso/grub.cfg.in > $(BUILD)/$(1)/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@ $(BUILD)/$(1) 2> $(BUILD)/$(1).log || \
	    { echo "  ISO    $@: grub-mkrescue failed; once more (xorriso was seen to crash as it shut down)"; \
	      grub-mkrescue -o $@ $(BUILD)/$(1) 2> $(BUILD)/$(1).log; } || { cat $(BUILD)/$(1).log; exit 1; }
endef

$(BUILD)/tandem.iso: $(KERNELS:%=$(BUILD)/%.elf) $(MODULES) iso/grub.cfg.in $(BUILD)/modules.stamp
	$(call make_iso,isodir,0,2)
$(BUILD)/tandem-test.iso: $(KERNELS:%=$(BUILD)/%.elf) $(MODULES) iso/grub.cfg.in $(BUILD)/modules.stamp
	$(call make_iso,isodir-test,1,0)

# ---- Host tests (the hardware-free code, natively, under ASan/UBSan) ------
# tests/host/NAME_test.c is linked with the sources listed in NAME.srcs and
# built with the extra flags in NAME.flags, if that file exists.
HOST_TESTS  := $(patsubst tests/host/%_test.c,%,$(wildcard tests/host/*_test.c))
HOST_CFLAGS := -std=gnu11 -g -O1 $(WARNINGS) -fsanitize=address,undefined \
               -fno-sanitize-recover=all -Iinclude -Itests/host -DHOST_TEST -DTANDEM_DEBUG=$(DEBUG)

$(BUILD)/host/%_test: tests/host/%_test.c tests/host/%.srcs $$(shell cat tests/host/$$*.srcs 2>/dev/null) $(wildcard include/*.h include/*/*.h)
	@mkdir -p $(@D)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $(shell cat tests/host/$*.flags 2>/dev/null) $< $(shell cat tests/host/$*.srcs) -lcmocka -o $@

# ---- Fuzz targets (libFuzzer, clang) ---------------------------------------
FUZZ_TARGETS := $(patsubst tests/fuzz/%_fuzz.c,%,$(wildcard tests/fuzz/*_fuzz.c))
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -DHOST_TEST -DTANDEM_DEBUG=$(DEBUG)

$(BUILD)/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $$(shell cat tests/fuzz/$$*.srcs 2>/dev/null) $(wildcard include/*.h include/*/*.h)
	@mkdir -p $(@D)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) $< $(shell cat tests/fuzz/$*.srcs) -o $@

# ---- Targets ----------------------------------------------------------------
.PHONY: all iso run test check host-tests fuzz deps gui-deps clean help linkgraph

# `make` alone: the kernel, the user programs and both ISOs.
all: $(KERNELS:%=$(BUILD)/%.elf) $(MODULES) $(BUILD)/tandem.iso $(BUILD)/tandem-test.iso

iso: $(BUILD)/tandem.iso $(BUILD)/tandem-test.iso

QEMU_FLAGS := -m $(QEMU_MEM) -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04
QEMU_RUN   := $(QEMU) $(QEMU_FLAGS) -cdrom $(BUILD)/tandem.iso -serial mon:stdio $(if $(filter 1,$(GUI)),,-display none)
QEMU_TEST  := $(QEMU) $(QEMU_FLAGS) -cdrom $(BUILD)/tandem-test.iso -serial stdio -display none

# The system comes up to the shell's prompt on this terminal (COM1 on stdio;
# Ctrl-C goes to the guest, Ctrl-A X quits); with GUI=1 the VGA window shows
# the same console and its keyboard types into it too.
run: deps $(if $(filter 1,$(GUI)),gui-deps)
	@$(MAKE) --no-print-directory $(BUILD)/tandem.iso
	@echo "Booting Tandem; quit with Ctrl-A X."
	$(QEMU_RUN)

# QEMU's windows (GTK, SDL) are a package of their own.
gui-deps:
	$(call apt_install,gui-deps,qemu-system-gui)

# Everything: the kernel's suites in QEMU (through GRUB), the host tests and
# a short fuzz run.  The runner prints each suite and ends with "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory -j$(TEST_PARALLEL) check

# The kernel's suites run once for the default build, once for each build
# in MATRIX (built in $(BUILD)/NAME with the settings in MATRIX_NAME; job
# kernel-NAME), and for the default build with each memory in MATRIX_MEM
# (job kernel-memSIZE).  A matrix build inherits the command line's settings
# (make test RELEASE=1 makes every build a release one).
MATRIX := kstack4096 kstack16384 release release-kstack4096 release-kstack16384 kfast-strict
MATRIX_kstack4096          := KSTACK_SIZE=4096
MATRIX_kstack16384         := KSTACK_SIZE=16384
MATRIX_release             := RELEASE=1
MATRIX_release-kstack4096  := RELEASE=1 KSTACK_SIZE=4096
MATRIX_release-kstack16384 := RELEASE=1 KSTACK_SIZE=16384
MATRIX_kfast-strict        := KSTACK_SIZE=8192 KFAST_STRICT=1
MATRIX_MEM := 16M 2G
# And the default build on several CPUs (job kernel-smpN), QEMU running one
# thread per CPU: the application processors are started and idle
# (docs/design.md, "Bring-up"); every suite must pass with them there, and
# the smp suite checks that every CPU QEMU was given came online.
MATRIX_SMP := 2 4
# Four vCPUs on a two-core host, while other jobs run beside them, take
# several times one CPU's time: these boots get twice the limit.
SMP_TEST_TIMEOUT = $(shell echo $$(( $(TEST_TIMEOUT) * 2 )))
QEMU_TEST_ISO = $(QEMU) -m $(2) -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
                -cdrom $(1) -serial stdio -display none

TEST_JOBS = --job "kernel:ktap-qemu:$(TEST_TIMEOUT):$(QEMU_TEST)" \
	$(foreach b,$(MATRIX),--job "kernel-$(b):ktap-qemu:$(TEST_TIMEOUT):$(call QEMU_TEST_ISO,$(BUILD)/$(b)/tandem-test.iso,$(QEMU_MEM))") \
	$(foreach m,$(MATRIX_MEM),--job "kernel-mem$(m):ktap-qemu:$(TEST_TIMEOUT):$(call QEMU_TEST_ISO,$(BUILD)/tandem-test.iso,$(m))") \
	$(foreach n,$(MATRIX_SMP),--job "kernel-smp$(n):ktap-qemu:$(SMP_TEST_TIMEOUT):$(call QEMU_TEST_ISO,$(BUILD)/tandem-test.iso,$(QEMU_MEM)) -smp $(n) -accel tcg,thread=multi") \
	--job "linkgraph:tap:60:$(PYTHON) tools/linkgraph.py --tap --root $(BUILD)/kernel @$(BUILD)/kernel.objs" \
	--job "cpu-models:tap:300:$(PYTHON) tests/boot/cpu_models.py $(BUILD)/tandem-test.elf $(QEMU)" \
	$(foreach t,$(HOST_TESTS),--job "host-$(t):tap:120:env CMOCKA_MESSAGE_OUTPUT=TAP $(BUILD)/host/$(t)_test") \
	$(foreach t,$(FUZZ_TARGETS),--job "fuzz-$(t):tap:120:tests/fuzz/run.sh $(BUILD)/fuzz/$(t)_fuzz 10") \
	$(foreach b,$(BOCHS_JOBS),--job "$(b):ktap-bochs:$(TEST_TIMEOUT):$(call BOCHS_TEST,$(b))")

# The test ISO under Bochs too (tests/bochs/), a second x86 implementation
# that delivers interrupts between any two instructions, where QEMU's TCG
# waits for the end of a translated block: with its default CPU, with SEP
# (sysenter) hidden from CPUID, and the release build (whose inline
# kfastmalloc has a two-instruction window no QEMU run ever hit), and with
# two CPUs (a second implementation of INIT-SIPI-SIPI).  Bochs'
# own log is build/test/NAME.bochsout.txt.
BOCHS_JOBS := bochs bochs-nosep bochs-release bochs-smp2
BOCHS_TEST = tests/bochs/run.sh $(if $(filter %-release,$(1)),$(BUILD)/release,$(BUILD))/tandem-test.iso \
             $(BUILD)/test/$(1).bochsout.txt $(if $(filter %-nosep,$(1)),sep=0,sep=1) \
             $(if $(filter %-smp2,$(1)),cpus=2)

# Strict arenas (KFAST_STRICT=1, the word kfast=strict): the kfast-strict
# build of MATRIX (8192-byte blocks) booted through GRUB, and the 16384-byte
# build booted with the word (-kernel, the user programs as -initrd).
# 4096-byte blocks refuse strict mode (no page to claim): boot-words checks
# the refusal.
# -initrd's list: build $(1)'s user programs, init first, comma-separated.
initrd_of = $(subst $(eval) ,$(comma),$(strip $(patsubst $(BUILD)/%,$(1)/%,$(MODULES))))
TEST_JOBS += --job "kernel-kstack16384-kfast-strict:ktap-qemu:$(TEST_TIMEOUT):$(QEMU) $(QEMU_FLAGS) \
	-kernel $(BUILD)/kstack16384/tandem-test.elf -initrd $(call initrd_of,$(BUILD)/kstack16384) \
	-append 'test kfast=strict' -serial stdio -display none"

# The boot words no other job uses, a command line longer than the kernel
# keeps, and a boot without modules (tests/boot/boot_words.py).
TEST_JOBS += --job "boot-words:tap:700:$(PYTHON) tests/boot/boot_words.py $(BUILD) $(BUILD)/kstack4096 $(QEMU)"

# A panic on several CPUs: the halt_* suites, booted one at a time on 2 and 4
# CPUs, must stop every CPU and report once (tests/boot/smp_halt.py).
TEST_JOBS += --job "smp-halt:tap:300:$(PYTHON) tests/boot/smp_halt.py $(BUILD)/tandem-test.elf $(QEMU)"

# Each matrix build is its own make in its own directory (FORCE: that make
# decides what is out of date).
$(MATRIX:%=$(BUILD)/%/tandem-test.iso): $(BUILD)/%/tandem-test.iso: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/$* $(MATRIX_$*) $@

check: $(BUILD)/tandem-test.iso $(MATRIX:%=$(BUILD)/%/tandem-test.iso) \
       $(HOST_TESTS:%=$(BUILD)/host/%_test) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%_fuzz) $$(CHECK_DEPS)
	$(PYTHON) tests/runner.py --log-dir $(BUILD)/test --parallel $(TEST_PARALLEL) $(TEST_JOBS)

.PHONY: FORCE
FORCE:

host-tests: $(HOST_TESTS:%=$(BUILD)/host/%_test)

# The kernel's link graph by layer (tools/linkgraph.py, docs/design.md
# "Layers"); fails on an edge that goes up a layer or a cycle across
# subsystems.  --files lists every file-to-file edge.
linkgraph: $(LINKGRAPH_OBJ)
	$(Q)$(PYTHON) tools/linkgraph.py --root $(BUILD)/kernel @$(BUILD)/kernel.objs

# `make fuzz`: each libFuzzer target for FUZZ_TIME seconds, then the syscall
# fuzzer (user/test_fuzz.c) for CALLS calls from SEED, in QEMU.
SEED  ?= 0x7A4D3E11
CALLS ?= 20000
# more boot words for it, e.g. fuzz_eflags=0 (see user/test_fuzz.c)
FUZZ_BOOT ?=
SYSCALL_FUZZ_MODULES := $(addprefix $(BUILD)/user/bin/,init exc_child fault_child fuzz_peer test_fuzz)
comma := ,
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%_fuzz) $(BUILD)/tandem-test.elf $(SYSCALL_FUZZ_MODULES)
	@for t in $(FUZZ_TARGETS); do echo "fuzzing $$t for $(FUZZ_TIME) s"; \
	  $(BUILD)/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_TIME) -print_final_stats=1 || exit 1; done
	$(PYTHON) tests/runner.py --log-dir $(BUILD)/syscall-fuzz \
	  --job "syscall-fuzz:ktap-qemu:$$(( 120 + $(CALLS) / 1000 )):$(QEMU) $(QEMU_FLAGS) -kernel $(BUILD)/tandem-test.elf \
	  -initrd $(subst $(eval) ,$(comma),$(strip $(SYSCALL_FUZZ_MODULES))) \
	  -append 'test fuzz_seed=$(SEED) fuzz_calls=$(CALLS) $(FUZZ_BOOT)' -serial stdio -display none"

# Installs the Debian packages the build and the tests need, and only those
# that are missing (through sudo when not root).  $(call apt_install,WHO,PACKAGES)
# is the recipe; mk/bench.mk uses it for the benchmark peers.
DEB_PACKAGES := make gcc binutils nasm python3 qemu-system-x86 grub-pc-bin grub-common \
                xorriso mtools libcmocka-dev clang libclang-rt-14-dev gdb \
                bochs bochsbios vgabios bochs-term clang-format
define apt_install
	@missing=""; for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "$(1): installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,deps,$(DEB_PACKAGES))

clean:
	rm -rf $(BUILD)

help:
	@echo "Tandem make targets:"
	@echo "  make              (make all) build/tandem.elf, build/tandem-test.elf (with the self-tests),"
	@echo "                    the user programs and both ISOs"
	@echo "  make run          install what is missing, build, boot the ISO in QEMU to the shell's prompt"
	@echo "                    on this terminal (Ctrl-A X quits; GUI=1: the VGA window too)"
	@echo "  make test         install what is missing, build, run every test; ends with 'N passed, N failed'"
	@echo "  make check        make test without the package check"
	@echo "  make iso          build/tandem.iso and build/tandem-test.iso"
	@echo "  make host-tests   build the host unit tests (tests/host/)"
	@echo "  make debug        boot the ISO stopped at the first instruction, with GDB attached"
	@echo "  make debug-server the QEMU half only; prints the GDB command to attach"
	@echo "  make bench        every benchmark: build/bench/results.tsv, table.txt, results.png,"
	@echo "                    then docs/bench/ and README's tables (bench-readme)"
	@echo "  make bench-host / bench-guest / bench-report / bench-readme / bench-bins / bench-deps"
	@echo "                    its parts: host allocators, the guest kernel, the report, README, the"
	@echo "                    host binaries, the peer allocators' packages"
	@echo "  make linkgraph    the kernel's link graph by layer; fails on an upward edge or a cycle"
	@echo "  make format       lay out every C file as .clang-format says (clang-format, in place)"
	@echo "  make check-format change nothing; TAP: which C files make format would change"
	@echo "  make fuzz         libFuzzer targets for FUZZ_TIME s, then the syscall fuzzer (SEED, CALLS, FUZZ_BOOT)"
	@echo "  make deps         install the missing Debian packages (apt-get)"
	@echo "  make gui-deps     install QEMU's window (qemu-system-gui), which make run GUI=1 needs"
	@echo "  make clean        remove build/"
	@echo "  make help         this list"
	@echo "Settings (now):"
	@echo "  KSTACK_SIZE=$(KSTACK_SIZE)   bytes per kernel-stack block: 4096, 8192 or 16384 (others are refused)"
	@echo "  KSTACK_BENCH_ONLY=$(KSTACK_BENCH_ONLY)   1: any power of two >= 4096, for a kernel that only runs bench"
	@echo "  KFAST_STRICT=$(KFAST_STRICT)   1: arenas refuse instead of spilling (KSTACK_SIZE 8192 or 16384)"
	@echo "  RELEASE=$(RELEASE)   1: compile out the debug checks (red zones, poisoning, records, UBSan)"
	@echo "  QEMU_MEM=$(QEMU_MEM)   guest memory for run and test"
	@echo "  GUI=$(GUI)   1: a VGA window for make run"
	@echo "  TEST_TIMEOUT=$(TEST_TIMEOUT)   seconds before a hung test boot fails"
	@echo "  TEST_PARALLEL=$(TEST_PARALLEL)   test jobs and matrix builds at once"
	@echo "  FUZZ_TIME=$(FUZZ_TIME)   seconds per libFuzzer target in make fuzz"
	@echo "  SEED=$(SEED) CALLS=$(CALLS) FUZZ_BOOT=$(FUZZ_BOOT)   the syscall fuzzer's seed, calls, extra boot words"
	@echo "  BUILD=$(BUILD)   where everything is built"
	@echo "  V=$(V)   1: print every command"

# Subsystems with their own targets (GDB, benchmarks) live in mk/*.mk; they
# may add runner jobs to TEST_JOBS and prerequisites to CHECK_DEPS.
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
