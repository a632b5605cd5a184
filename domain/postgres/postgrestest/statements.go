package postgrestest

import (
	"context"
	"sync"

	"github.com/uptrace/bun"
)

// Statements keeps every SQL statement a database runs, as a bun query
// hook (db.AddQueryHook), so that a test can count the statements a piece
// of code sends and read what they are, rather than time it.
type Statements struct {
	mu  sync.Mutex
	ran []string
}

// BeforeQuery does nothing: a statement is kept once it has run.
func (s *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery keeps the statement that ran.
func (s *Statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.mu.Lock()
	s.ran = append(s.ran, e.Query)
	s.mu.Unlock()
}

// Take returns the statements run since the last call.
func (s *Statements) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ran
	s.ran = nil
	return r
}
