# Fluxera Activity. `make run` serves the platform on the local stack;
# `make test` runs every test against the same real services.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK := deploy/local/stack.sh
BIN := bin/fluxera
GO_TEST_FLAGS ?= -count=1 -timeout 30m
export GOFLAGS := -buildvcs=false

.PHONY: help up down status build run migrate seed test test-unit bench fmt vet

help:
	@echo "make run     bring up the local stack, migrate, seed the demo workspace and serve"
	@echo "make test    bring up the local stack and run every test against it"
	@echo "make bench   measure the platform into bench/results.json (BENCH_FLAGS=\"-only search\" runs some sections)"
	@echo "make up | down | status   manage the local stack (PostgreSQL, Kafka, OpenSearch, Redis, SeaweedFS)"

up:
	@$(STACK) up

down:
	@$(STACK) down

status:
	@$(STACK) status

build:
	go build -o $(BIN) ./cmd/fluxera

migrate: up build
	@eval "$$($(STACK) env)" && $(BIN) migrate

seed: up build
	@eval "$$($(STACK) env)" && $(BIN) seed

run: up build
	@eval "$$($(STACK) env)" && $(BIN) seed && \
	  echo "Fluxera is serving. Open the console at http://$${FLUXERA_HTTP_ADDR:-127.0.0.1:8080}/  (sign in: admin@demo.fluxera.test / fluxera-demo; Ctrl-C stops)" && \
	  exec $(BIN) serve

test: up
	@eval "$$($(STACK) env)" && FLUXERA_REQUIRE_STACK=1 FLUXERA_DISRUPTIVE_TESTS=1 go test $(GO_TEST_FLAGS) ./...

bench: up build
	@eval "$$($(STACK) env)" && go run ./bench -out bench/results.json $(BENCH_FLAGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	go vet ./...
