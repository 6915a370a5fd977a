# The two commands a new user needs: `make run` and `make test`.
BUILD ?= build/release
TEST_BUILD ?= build/test
DATA ?= data
PORT ?= 8080

.PHONY: all setup build run test bench format clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAPERBOY_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)

# Loads the bundled demo corpus (re-loading changes nothing) and serves it on port $(PORT).
run: build
	$(BUILD)/paperboy --data $(DATA) ingest demo || [ $$? -eq 3 ]  # 3: some records rejected
	$(BUILD)/paperboy --data $(DATA) serve --port $(PORT)

# Every suite, in the AddressSanitizer + UndefinedBehaviorSanitizer build, with a throwaway
# PostgreSQL (scripts/test-services.sh) that is stopped afterwards, also when a test fails.
test: setup
	@cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAPERBOY_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD)
	@trap 'scripts/test-services.sh stop' EXIT; \
	  export $$(scripts/test-services.sh start) && \
	  ctest --test-dir $(TEST_BUILD) --output-on-failure -j2

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
