package app

import (
	"io"
	"strings"
	"testing"

	"github.com/fluxera/activity/domain/argon2"
)

// TestWeakPasswordHashingIsRefused checks that the platform does not start
// with argon2id parameters below OWASP's minimum unless the test and bench
// mode is declared, and that the hashing limits are checked.
func TestWeakPasswordHashingIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		fault string // in the error; "" when the configuration is accepted
	}{
		{"defaults", nil, ""},
		{"weak memory", map[string]string{"FLUXERA_ARGON2_MEMORY_KIB": "1024"}, "FLUXERA_ARGON2_WEAK_OK"},
		{"one pass", map[string]string{"FLUXERA_ARGON2_TIME": "1"}, "below OWASP's minimum"},
		{"weak, declared", map[string]string{"FLUXERA_ARGON2_MEMORY_KIB": "1024", "FLUXERA_ARGON2_TIME": "1", "FLUXERA_ARGON2_WEAK_OK": "1"}, ""},
		{"weak, declared false", map[string]string{"FLUXERA_ARGON2_MEMORY_KIB": "1024", "FLUXERA_ARGON2_WEAK_OK": "false"}, "FLUXERA_ARGON2_WEAK_OK"},
		{"less memory, more passes", map[string]string{"FLUXERA_ARGON2_MEMORY_KIB": "12288", "FLUXERA_ARGON2_TIME": "3"}, ""},
		{"no turns", map[string]string{"FLUXERA_ARGON2_CONCURRENCY": "-1"}, "concurrency"},
		{"negative queue wait", map[string]string{"FLUXERA_ARGON2_QUEUE_WAIT": "-1s"}, "queue wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(func(name string) string { return tt.env[name] })
			switch {
			case tt.fault == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
				t.Errorf("error %v, want one about %q", err, tt.fault)
			}
		})
	}
}

// TestWeakHashingSetInCodeMustBeDeclared checks the same refusal for a
// configuration changed after loading, as the end-to-end harness does: the
// hasher is not built from weak parameters unless the mode is declared.
func TestWeakHashingSetInCodeMustBeDeclared(t *testing.T) {
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Argon2.Params = argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}
	if _, err := NewMain(cfg).PasswordHasher(); err == nil || !strings.Contains(err.Error(), "FLUXERA_ARGON2_WEAK_OK") {
		t.Errorf("weak parameters without the mode: %v", err)
	}
	cfg.Argon2.WeakOK = true
	m := NewMain(cfg)
	m.Log.SetOutput(io.Discard)
	h, err := m.PasswordHasher()
	if err != nil || h.Params != cfg.Argon2.Params || h.Turns == nil {
		t.Errorf("weak parameters in the declared mode: %+v, %v", h, err)
	}
}
