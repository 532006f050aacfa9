# Thin front for CMake. See README.md.
BUILD    ?= build
CHECKDIR ?= build-check
MBEDCHECKDIR ?= build-check-mbedtls
BENCHDIR ?= build-bench
TSANDIR  ?= build-tsan
USERDIR  ?= build-user
INSTALLDIR ?= build-install
PREFIX   ?= /usr/local
QUICK    ?= 0
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
DEBS      = build-essential cmake pkg-config libssl-dev libcmocka-dev \
            clang libclang-rt-14-dev openssl dpkg-dev libtss2-dev swtpm swtpm-tools \
            libp11-kit-dev p11-kit p11-kit-modules softhsm2 opensc gnutls-bin \
            libengine-pkcs11-openssl python3-serial
# mbedTLS source (Debian's source package), the MCU crypto backend.
MBEDTLS_CACHE ?= build/mbedtls-src
# The firmware (Cortex-M33, QEMU mps2-an505): cross toolchain and emulator.
FWDIR    ?= $(BUILD)/fw
FWDEBS    = gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm
FIRMWARE  = $(abspath $(FWDIR))/tinyhsm-fw.elf
# tinyhsm.exe under Wine (tests/win): Wine, and mingw-w64 for its probe.
WINEDEBS  = wine wine64 gcc-mingw-w64-x86-64
WINEXE    = $(WINDIR)/tinyhsm.exe
WINTESTDIR ?= build-wintest

.PHONY: all deps debdeps mbedtls build firmware check demo install uninstall deb bench bench-fw clean
.PHONY: test tsan windows winedeps windows-test

all: build

deps:
	@bash scripts/deps.sh $(DEBS)

mbedtls: deps
	@bash scripts/fetch-mbedtls.sh $(MBEDTLS_CACHE)

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# The firmware ELF and .bin in $(FWDIR) (its own CMake project, cross-compiled),
# and build/bin/tinyhsmd-qemu, which runs it in QEMU behind a pty.
firmware: mbedtls
	@bash scripts/deps.sh $(FWDEBS)
	cmake -S fw -B $(FWDIR) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/fw/toolchain-arm-none-eabi.cmake \
	      -DTHSM_MBEDTLS_CACHE=$(abspath $(MBEDTLS_CACHE))
	cmake --build $(FWDIR) -j$(JOBS)
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS) --target tinyhsmd-qemu

# tinyhsm.exe for Windows in $(WINDIR) (win/, cross-compiled with mingw-w64,
# static: one file; mbedTLS from the same source as the firmware).
WINDIR   ?= $(BUILD)/win
WINDEBS   = gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64
windows: mbedtls
	@bash scripts/deps.sh $(WINDEBS)
	cmake -S win -B $(WINDIR) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/win/toolchain-mingw64.cmake \
	      -DCMAKE_BUILD_TYPE=Release -DTHSM_MBEDTLS_CACHE=$(abspath $(MBEDTLS_CACHE))
	cmake --build $(WINDIR) -j$(JOBS)
	@echo "$(WINDIR)/tinyhsm.exe"

# Tests run under ASan+UBSan with clang, which also builds the fuzzers; the
# qemu.* tests run the firmware. The unit tests run a second time with the
# device core on mbedTLS. Then the end-to-end suites run again as a normal
# user (nobody, when run as root) with an 8 MiB memory-lock limit, on that
# build and on a non-sanitized one (ASan hides bugs such as a failing mlock).
MBED_UNITS = test_device test_boot test_crypto
check: deps debdeps winedeps mbedtls firmware windows
	cmake -S . -B $(CHECKDIR) -DCMAKE_C_COMPILER=clang \
	      -DCMAKE_BUILD_TYPE=Debug -DTHSM_SANITIZE=ON -DTHSM_FUZZ=ON \
	      -DTHSM_FIRMWARE=$(FIRMWARE)
	cmake --build $(CHECKDIR) -j$(JOBS)
	cd $(CHECKDIR) && ctest --output-on-failure -j$(JOBS)
	$(MAKE) tsan
	cmake -S . -B $(MBEDCHECKDIR) -DCMAKE_C_COMPILER=clang \
	      -DCMAKE_BUILD_TYPE=Debug -DTHSM_SANITIZE=ON -DTHSM_CRYPTO=mbedtls \
	      -DTHSM_MBEDTLS_CACHE=$(abspath $(MBEDTLS_CACHE))
	cmake --build $(MBEDCHECKDIR) -j$(JOBS) --target $(MBED_UNITS)
	cd $(MBEDCHECKDIR) && ctest --output-on-failure -j$(JOBS) \
	      -R '^unit\.test_(device|boot|crypto)$$'
	cmake -S . -B $(USERDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(USERDIR) -j$(JOBS)
	JOBS=$(JOBS) THSM_WIN_EXE=$(abspath $(WINEXE)) \
	      bash tests/run_unprivileged.sh $(CHECKDIR) $(USERDIR)
	$(MAKE) bench QUICK=1
	BENCH_FW_JSON=$(abspath $(BUILD))/fw-results.json $(MAKE) bench-fw
	$(MAKE) windows-test

# The fast tests (labels unit, core, e2e; not slow) of an ASan build in
# $(CHECKDIR), configured when missing; nothing installed, no firmware.
# TEST=regex picks suites (make test TEST=unit.test_device), CASE=name one
# cmocka test case (make test CASE=test_kdf_failure_spends_no_try).
test:
	@bash tests/run_tests.sh $(CHECKDIR) $(JOBS) '$(TEST)' '$(CASE)'

# The host library from several threads at once under ThreadSanitizer
# (tests/host/host_threads.c): a build of its own, as TSan and ASan do not
# mix, with only the daemon and the test in it.
tsan:
	cmake -S . -B $(TSANDIR) -DCMAKE_C_COMPILER=clang \
	      -DCMAKE_BUILD_TYPE=Debug -DTHSM_TSAN=ON
	cmake --build $(TSANDIR) -j$(JOBS) --target tinyhsmd host_threads
	cd $(TSANDIR) && ctest --output-on-failure -L '^tsan$$'

# tinyhsm.exe under Wine against a tinyhsmd (the win label, tests/win): a
# fresh Wine prefix per suite; they skip, saying why, without Wine.
winedeps:
	@bash scripts/deps.sh $(WINEDEBS)

windows-test: deps winedeps mbedtls
	cmake -S . -B $(WINTESTDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(WINTESTDIR) -j$(JOBS) --target tinyhsmd tinyhsm pty_relay
	cd $(WINTESTDIR) && ctest --output-on-failure -j$(JOBS) -L '^win$$'

demo: deps build
	bash scripts/demo.sh $(BUILD)/bin

# A build of its own without test binaries; uninstall removes what the last
# install listed (build-install/install_manifest.txt).
install: deps
	cmake -S . -B $(INSTALLDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DTHSM_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
	      -DTHSM_FIRMWARE=$(FIRMWARE)
	cmake --build $(INSTALLDIR) -j$(JOBS)
	cmake --install $(INSTALLDIR) --prefix $(PREFIX)

uninstall:
	cmake --build $(INSTALLDIR) --target uninstall

# build/deb/tinyhsm_<version>_<arch>.deb (scripts/deb.sh, debian/); make
# check's tests/deb need the same tools.
DEBDEBS = debhelper devscripts scdoc lintian
debdeps:
	@bash scripts/deps.sh $(DEBDEBS)

deb: deps debdeps
	JOBS=$(JOBS) bash scripts/deb.sh $(BUILD)/deb

# QUICK=1: one run, small sizes (make check runs it: a broken bench fails).
bench: deps
	cmake -S . -B $(BENCHDIR) -DCMAKE_BUILD_TYPE=Release -DTHSM_TESTS=OFF
	cmake --build $(BENCHDIR) -j$(JOBS)
	QUICK=$(QUICK) bash bench/run.sh $(BENCHDIR)/bin

# The firmware's footprint and instruction counts: bench/fw-results.json.
bench-fw: firmware
	cmake --build $(BUILD) -j$(JOBS) --target tinyhsm
	bash bench/fw.sh $(BUILD)/bin $(FIRMWARE)

clean:
	rm -rf $(BUILD) $(CHECKDIR) $(MBEDCHECKDIR) $(BENCHDIR) $(USERDIR) $(INSTALLDIR) \
	       $(TSANDIR) $(WINTESTDIR)
