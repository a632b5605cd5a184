// Package redis keeps the detector's sliding windows in Redis, one sorted
// set per window scored by event time, with the event id as the member.
package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// addScript adds a member and counts the window in one atomic step, trims
// members too old to matter and lets idle windows expire.
var addScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - 2 * window)
redis.call('PEXPIRE', KEYS[1], 2 * window)
return redis.call('ZCOUNT', KEYS[1], '(' .. (at - window), at)
`)

// Windows implements detect.Windows on a Redis client.
type Windows struct {
	client goredis.UniversalClient
}

// NewWindows returns windows stored through client.
func NewWindows(client goredis.UniversalClient) *Windows { return &Windows{client: client} }

// Add records member at time at and returns the count within the window.
func (w *Windows) Add(ctx context.Context, key, member string, at time.Time, window time.Duration) (int64, error) {
	return addScript.Run(ctx, w.client, []string{key}, at.UnixMilli(), window.Milliseconds(), member).Int64()
}

// Claim sets key unless it exists, for the cooldown, and reports whether it did.
func (w *Windows) Claim(ctx context.Context, key string, cooldown time.Duration) (bool, error) {
	return w.client.SetNX(ctx, key, 1, cooldown).Result()
}
