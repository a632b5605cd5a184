package argon2_test

import (
	"strings"
	"testing"

	"github.com/fluxera/activity/domain/argon2"
)

func TestHashVerify(t *testing.T) {
	h := argon2.Hasher{Params: argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}}
	enc, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	other, _ := h.Hash("correct horse")
	if other == enc {
		t.Error("two hashes of one password share a salt")
	}
	// A hasher with other parameters still verifies old hashes.
	later := argon2.Hasher{Params: argon2.DefaultParams}
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
			if got := later.Verify(tt.password, tt.encoded); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}
