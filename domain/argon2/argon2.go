// Package argon2 hashes and verifies passwords with argon2id, encoded in the
// PHC string format so that parameters can change without breaking old
// hashes. Each hash holds its parameters' memory while it runs, so a Hasher
// lets only a bounded number run at once.
package argon2

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	activity "github.com/fluxera/activity"
)

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams follow the OWASP recommendation for argon2id.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// owaspMinimums are OWASP's recommended argon2id configurations (Password
// Storage Cheat Sheet), which it counts as equally strong: less memory
// takes more passes.
var owaspMinimums = []Params{
	{MemoryKiB: 46 * 1024, Time: 1, Threads: 1},
	{MemoryKiB: 19 * 1024, Time: 2, Threads: 1},
	{MemoryKiB: 12 * 1024, Time: 3, Threads: 1},
	{MemoryKiB: 9 * 1024, Time: 4, Threads: 1},
	{MemoryKiB: 7 * 1024, Time: 5, Threads: 1},
}

// Strong reports whether p costs at least one of OWASP's recommended
// configurations: at least its memory and at least its passes.
func (p Params) Strong() bool {
	for _, m := range owaspMinimums {
		if p.MemoryKiB >= m.MemoryKiB && p.Time >= m.Time && p.Threads >= m.Threads {
			return true
		}
	}
	return false
}

// Validate fills in defaults and checks the values.
func (p *Params) Validate() error {
	if *p == (Params{}) {
		*p = DefaultParams
	}
	if p.MemoryKiB < 8 || p.Time < 1 || p.Threads < 1 {
		return fmt.Errorf("argon2: memory must be at least 8 KiB, time and threads at least 1")
	}
	return nil
}

// Config tunes password hashing: the cost of a hash and how many run at
// once.
type Config struct {
	Params
	// WeakOK allows parameters below OWASP's minimum. Only tests and the
	// bench set it, to spend their time on something else than hashing.
	WeakOK bool
	// Concurrency is how many hashes and verifications run at once, each
	// holding MemoryKiB; twice the cores by default.
	Concurrency int
	// QueueWait is how long a hash waits for its turn before it is refused
	// with EUNAVAILABLE; 2 s by default.
	QueueWait time.Duration
}

// Validate fills in defaults and checks the values. Parameters below
// OWASP's minimum are refused unless WeakOK is set.
func (c *Config) Validate() error {
	if err := c.Params.Validate(); err != nil {
		return err
	}
	if !c.WeakOK && !c.Params.Strong() {
		return fmt.Errorf("argon2: m=%d KiB, t=%d, p=%d is below OWASP's minimum for argon2id (m=19456 KiB with t=2, or m=46 MiB with t=1, m=12 MiB with t=3, m=9 MiB with t=4, m=7 MiB with t=5); "+
			"raise FLUXERA_ARGON2_MEMORY_KIB or FLUXERA_ARGON2_TIME (FLUXERA_ARGON2_WEAK_OK=1 allows weak parameters for tests and benchmarks only)",
			c.MemoryKiB, c.Time, c.Threads)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2 * runtime.NumCPU()
	}
	if c.QueueWait == 0 {
		c.QueueWait = 2 * time.Second
	}
	if c.Concurrency < 1 || c.QueueWait < 0 {
		return fmt.Errorf("argon2: concurrency must be at least 1 and the queue wait not negative")
	}
	return nil
}

// Hasher hashes new passwords with its parameters and verifies old ones
// with theirs. With Turns, at most that many run at once; a Hasher without
// them runs every hash at once.
type Hasher struct {
	Params Params
	Turns  *Turns
}

// New returns a hasher for cfg, or an error when cfg is not valid (weak
// parameters without WeakOK among others).
func New(cfg Config) (Hasher, error) {
	if err := cfg.Validate(); err != nil {
		return Hasher{}, err
	}
	return Hasher{Params: cfg.Params, Turns: NewTurns(cfg.Concurrency, cfg.QueueWait)}, nil
}

// Hash returns the encoded hash of password with a fresh salt. It returns
// EUNAVAILABLE when no turn came in time or ctx ended while waiting.
func (h Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.Turns.Take(ctx); err != nil {
		return "", err
	}
	defer h.Turns.Give()
	p := h.Params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash. A malformed
// hash never matches. It returns EUNAVAILABLE when no turn came in time or
// ctx ended while waiting.
func (h Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var version int
	var p Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, nil
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, nil
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, nil
	}
	if err := h.Turns.Take(ctx); err != nil {
		return false, err
	}
	defer h.Turns.Give()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// errBusy answers a hash that found no turn in time.
var errBusy = activity.Errorf(activity.EUNAVAILABLE, "", "too many passwords are being checked right now; try again in a moment")

// Turns bounds how many hashes run at once: a hash takes a turn, waits a
// little for one when all are taken, and gives it back when it is done. A
// nil *Turns has a turn for everyone.
type Turns struct {
	slots chan struct{}
	wait  time.Duration
}

// NewTurns returns n turns; a hash waits at most wait for one.
func NewTurns(n int, wait time.Duration) *Turns {
	return &Turns{slots: make(chan struct{}, n), wait: wait}
}

// Take waits for a turn. It returns EUNAVAILABLE when none came within the
// wait or ctx ended first.
func (t *Turns) Take(ctx context.Context) error {
	if t == nil {
		return nil
	}
	select {
	case t.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (%w)", errBusy, ctx.Err())
	case <-timer.C:
		return errBusy
	}
}

// Give gives back a turn that Take gave.
func (t *Turns) Give() {
	if t != nil {
		<-t.slots
	}
}
