package redis

import (
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Defaults of the Config's timeouts.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultTimeout     = 5 * time.Second
)

// Config says where the detector's Redis is and how long a call to it may
// take.
type Config struct {
	Addr string
	// DialTimeout bounds connecting; Timeout bounds writing a command (or
	// a pipeline) and reading its answer, each.
	DialTimeout time.Duration
	Timeout     time.Duration
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("redis: no address configured")
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DialTimeout < 0 || c.Timeout < 0 {
		return fmt.Errorf("redis: timeouts must be positive")
	}
	return nil
}

// NewClient returns a client of cfg's Redis whose every call has a
// deadline: cfg's timeouts, or the caller's context's deadline when that
// comes first. cfg must be valid.
func NewClient(cfg Config) *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr:                  cfg.Addr,
		DialTimeout:           cfg.DialTimeout,
		ReadTimeout:           cfg.Timeout,
		WriteTimeout:          cfg.Timeout,
		ContextTimeoutEnabled: true,
	})
}
