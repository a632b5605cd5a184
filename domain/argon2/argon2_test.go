package argon2_test

import (
	"context"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain/argon2"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := argon2.Hasher{Params: argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}}
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	other, _ := h.Hash(ctx, "correct horse")
	if other == enc {
		t.Error("two hashes of one password share a salt")
	}
	// A hasher with other parameters still verifies old hashes.
	later, err := argon2.New(argon2.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		encoded  string
		want     bool
	}{
		{"right password", "correct horse", enc, true},
		{"wrong password", "correct horse!", enc, false},
		{"empty password", "", enc, false},
		{"malformed hash", "correct horse", "$argon2id$v=19$m=64", false},
		{"other algorithm", "correct horse", strings.Replace(enc, "argon2id", "argon2i", 1), false},
		{"empty hash", "correct horse", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := later.Verify(ctx, tt.password, tt.encoded)
			if err != nil || got != tt.want {
				t.Errorf("Verify = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

// TestWeakParamsAreRefused checks that parameters below every one of
// OWASP's recommended configurations are refused unless weak parameters
// are allowed explicitly.
func TestWeakParamsAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		params argon2.Params
		strong bool
	}{
		{"default", argon2.Params{}, true},
		{"19 MiB, 2 passes", argon2.Params{MemoryKiB: 19456, Time: 2, Threads: 1}, true},
		{"46 MiB, 1 pass", argon2.Params{MemoryKiB: 47104, Time: 1, Threads: 1}, true},
		{"7 MiB, 5 passes", argon2.Params{MemoryKiB: 7168, Time: 5, Threads: 1}, true},
		{"64 MiB, 3 passes, 4 lanes", argon2.Params{MemoryKiB: 65536, Time: 3, Threads: 4}, true},
		{"19 MiB, 1 pass", argon2.Params{MemoryKiB: 19456, Time: 1, Threads: 1}, false},
		{"18 MiB, 2 passes", argon2.Params{MemoryKiB: 18432, Time: 2, Threads: 1}, false},
		{"1 MiB, 1 pass", argon2.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, false},
		{"6 MiB, 10 passes", argon2.Params{MemoryKiB: 6144, Time: 10, Threads: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := argon2.Config{Params: tt.params}
			if err := cfg.Validate(); (err == nil) != tt.strong {
				t.Errorf("Validate = %v, want refused: %v", err, !tt.strong)
			}
			if _, err := argon2.New(argon2.Config{Params: tt.params}); (err == nil) != tt.strong {
				t.Errorf("New = %v, want refused: %v", err, !tt.strong)
			}
			weak := argon2.Config{Params: tt.params, WeakOK: true}
			if err := weak.Validate(); err != nil {
				t.Errorf("with weak parameters allowed: %v", err)
			}
		})
	}
}

// TestTurnsBoundTheHashesAtOnce checks that a hash waits for a turn while
// every turn is taken, and is refused with EUNAVAILABLE when none comes in
// time or its context ends; a given-back turn serves the next hash.
func TestTurnsBoundTheHashesAtOnce(t *testing.T) {
	turns := argon2.NewTurns(2, 20*time.Millisecond)
	h := argon2.Hasher{Params: argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Turns: turns}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := turns.Take(ctx); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
	}
	if _, err := h.Hash(ctx, "correct horse"); activity.ErrorCode(err) != activity.EUNAVAILABLE {
		t.Errorf("a hash with every turn taken: %v, want unavailable", err)
	}
	if _, err := h.Verify(ctx, "correct horse", enc); activity.ErrorCode(err) != activity.EUNAVAILABLE {
		t.Errorf("a verification with every turn taken: %v, want unavailable", err)
	}
	// A request that goes away stops waiting, however long the queue
	// would let it wait.
	long := argon2.NewTurns(1, time.Hour)
	if err := long.Take(ctx); err != nil {
		t.Fatal(err)
	}
	patient := argon2.Hasher{Params: h.Params, Turns: long}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := patient.Verify(gone, "correct horse", enc); activity.ErrorCode(err) != activity.EUNAVAILABLE {
		t.Errorf("a verification for a request that went away: %v, want unavailable", err)
	}
	turns.Give()
	if ok, err := h.Verify(ctx, "correct horse", enc); err != nil || !ok {
		t.Errorf("a verification after a turn was given back: %v, %v", ok, err)
	}
	turns.Give()
}
