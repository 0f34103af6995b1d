# kalab — make targets. `make run` runs the built-in suite; `make test` runs the tests.
GO        ?= go
PKGS      ?= ./...
OUT       ?= out
BENCHTIME ?= 1x

.PHONY: all build run test test-short bench lint fmt tidy clean agreement

all: lint test

build:
	$(GO) build -o bin/kalab ./cmd/kalab

## run: the main job — every scenario of the built-in suite in the simulator.
run:
	$(GO) run ./cmd/kalab run --out $(OUT)

## test: every test, with the race detector.
test:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## test-short: the quick pass — tests that honour -short skip their long real-time
## runs; no race detector.
test-short:
	$(GO) test -short -count=1 $(PKGS)

## agreement: the full simulator-vs-network-lab agreement set (make test runs the
## bounded one); real time, about 10 minutes.
agreement:
	KALAB_AGREEMENT=full $(GO) test -race -count=1 -timeout 40m -run TestSimulatorAgreesWithNetwork -v ./sim/netlab

## bench: every benchmark once (BENCHTIME=5x or 3s for more).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m $(PKGS)

## lint: formatting and vet.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

tidy:
	$(GO) mod tidy

clean:
	rm -rf bin $(OUT)
