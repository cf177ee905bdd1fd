# dealreg — make targets. CI (.ci/run) calls `make test`, the same command the README gives.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATA    ?= ./data
ADDR    ?= 127.0.0.1:8080
GO      ?= go
BIN     ?= bin/dealreg
STATICCHECK_VERSION ?= v0.8.2

.PHONY: build run test bench eval train lint fuzz deps clean load

build: ## build bin/dealreg, statically linked (CGO_ENABLED=0: the SQLite driver is pure Go)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/dealreg

run: build ## serve the API on the embedded ledger in $(DATA); Ctrl-C stops it gracefully
	exec bin/dealreg serve --data $(DATA) --addr $(ADDR)

test: ## vet, then every test with the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

bench: ## append/fsync, read-all and duplicate-check benchmarks (a few minutes)
	$(GO) test -run '^$$' -bench 'Fsync|Append' -benchtime 3s -count 3 ./eventstore/
	$(GO) test -run '^$$' -bench 'ReadAll' -benchtime 3x -count 3 -timeout 30m ./eventstore/
	$(GO) test -run '^$$' -bench 'DuplicateCheck' -cpu 1 -benchtime 3000x -timeout 20m ./domain/match/

PAIRS ?= testdata/company-names/dev.csv testdata/company-names/dev-negatives.csv
eval: ## the account matcher's precision and recall on labelled pairs, committed model and 5-fold cross-validated (PAIRS="a.csv b.csv"; default: the dev set with its hard negatives)
	$(GO) run ./cmd/dealreg match eval $(addprefix --pairs ,$(PAIRS)) --cv 5

train: ## retrain the account matcher's model (domain/match/model.json) on PAIRS, with 5-fold cross-validation
	$(GO) run ./cmd/dealreg match train $(addprefix --pairs ,$(PAIRS)) --out domain/match/model.json

lint: ## go vet, gofmt and staticcheck
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo "gofmt: files above need formatting" && exit 1)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz: ## run each fuzzer for a while
	$(GO) test -run '^$$' -fuzz FuzzImport -fuzztime 60s ./eventstore/
	$(GO) test -run '^$$' -fuzz FuzzReadStream -fuzztime 60s ./eventstore/
	$(GO) test -run '^$$' -fuzz FuzzLedgerQuery -fuzztime 60s ./api/
	$(GO) test -run '^$$' -fuzz FuzzRegistrationBody -fuzztime 60s ./api/
	$(GO) test -run '^$$' -fuzz FuzzPut -fuzztime 60s ./eventstore/attachments/
	$(GO) test -run '^$$' -fuzz FuzzRegistrationValidate -fuzztime 60s ./domain/
	$(GO) test -run '^$$' -fuzz FuzzParsePolicy -fuzztime 60s ./domain/
	$(GO) test -run '^$$' -fuzz FuzzCompare -fuzztime 60s ./domain/match/
	$(GO) test -run '^$$' -fuzz FuzzNormalise -fuzztime 60s ./domain/match/

deps: ## what the tests need beyond Go: the sqlite3 tool (tamper tests use it) and Chromium (browser tests)
	@command -v sqlite3 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq sqlite3)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

clean:
	rm -rf bin

LOAD_EVENTS ?= 100000
LOAD_DATA   ?= /tmp/dealreg-load
LOAD_ADDR   ?= 127.0.0.1:18080
LOAD_FOR    ?= 15s
LOAD_READ_RATE ?= 1000
LOAD_SERVE_FLAGS ?=
LOAD_FLAGS  ?=
LOAD_PHASES ?= one,many,read,rate,pipeline,analytics,asof,pages
LOAD_PASSWORD ?= load-password-2026
load: ## serve a generated ledger (LOAD_EVENTS, kept in LOAD_DATA) and drive it over HTTP: submissions by 1 and 64 clients, reads by 50 (as fast as answered, then at LOAD_READ_RATE/s), pipeline lists by 50, analytics by 10, answers as of a quarter end, the console's and portal's pages by signed-in users (LOAD_PHASES)
	CGO_ENABLED=0 $(GO) build -o $(LOAD_DATA).bin/dealreg ./cmd/dealreg
	$(GO) build -o $(LOAD_DATA).bin/dealreg-load ./cmd/dealreg-load
	test -f $(LOAD_DATA)/ledger.db || $(LOAD_DATA).bin/dealreg generate --data $(LOAD_DATA) --events $(LOAD_EVENTS)
	@set -e; \
	token=$$($(LOAD_DATA).bin/dealreg token create --data $(LOAD_DATA) --role admin --name load 2>/dev/null); \
	$(LOAD_DATA).bin/dealreg serve --data $(LOAD_DATA) --addr $(LOAD_ADDR) $(LOAD_SERVE_FLAGS) 2>$(LOAD_DATA).serve.log & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT; \
	until curl -sf http://$(LOAD_ADDR)/readyz >/dev/null; do sleep 0.1; done; \
	echo "serve ready on $(LOAD_ADDR) with $$(curl -s http://$(LOAD_ADDR)/readyz)"; \
	partner=$$($(LOAD_DATA).bin/dealreg-load -addr http://$(LOAD_ADDR) -token $$token -top-partner); \
	$(LOAD_DATA).bin/dealreg user invite --data $(LOAD_DATA) --role channel_manager --name "Load manager" --email manager@load.example --password $(LOAD_PASSWORD) >/dev/null 2>&1 || true; \
	$(LOAD_DATA).bin/dealreg user invite --data $(LOAD_DATA) --role partner --partner $$partner --name "Load partner" --email partner@load.example --password $(LOAD_PASSWORD) >/dev/null 2>&1 || true; \
	$(LOAD_DATA).bin/dealreg-load -addr http://$(LOAD_ADDR) -token $$token -duration $(LOAD_FOR) -read-rate $(LOAD_READ_RATE) -phases $(LOAD_PHASES) \
		-console-user manager@load.example:$(LOAD_PASSWORD) -partner-user partner@load.example:$(LOAD_PASSWORD) -partner $$partner $(LOAD_FLAGS); \
	echo "resident memory of serve: $$(ps -o rss= -p $$pid) KB"
