# Thin front for CMake. See README.md.
BUILD    ?= build
CHECKDIR ?= build-check
BENCHDIR ?= build-bench
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
DEBS      = build-essential cmake pkg-config libssl-dev libcmocka-dev \
            clang libclang-rt-14-dev openssl dpkg-dev
# mbedTLS source (Debian's source package), the MCU crypto backend.
MBEDTLS_CACHE ?= build/mbedtls-src

.PHONY: all deps mbedtls build check demo install bench clean

all: build

deps:
	@bash scripts/deps.sh $(DEBS)

mbedtls: deps
	@bash scripts/fetch-mbedtls.sh $(MBEDTLS_CACHE)

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# Tests run under ASan+UBSan with clang, which also builds the fuzzers.
check: deps
	cmake -S . -B $(CHECKDIR) -DCMAKE_C_COMPILER=clang \
	      -DCMAKE_BUILD_TYPE=Debug -DTHSM_SANITIZE=ON -DTHSM_FUZZ=ON
	cmake --build $(CHECKDIR) -j$(JOBS)
	cd $(CHECKDIR) && ctest --output-on-failure -j$(JOBS)

demo: deps build
	bash scripts/demo.sh $(BUILD)/bin

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: deps
	cmake -S . -B $(BENCHDIR) -DCMAKE_BUILD_TYPE=Release -DTHSM_TESTS=OFF
	cmake --build $(BENCHDIR) -j$(JOBS)
	bash bench/run.sh $(BENCHDIR)/bin

clean:
	rm -rf $(BUILD) $(CHECKDIR) $(BENCHDIR)
