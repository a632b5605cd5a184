// Package redis keeps the detector's memory in Redis: sliding windows of
// events, each user's active hours, known places and sessions, and the
// cooldown claims of raised alerts. Every check is one Lua script, so it
// is one atomic step; a batch's checks travel in one pipelined round trip.
// Sorted sets are scored by the events' own time and keyed by event id, so
// a redelivered event is never counted twice. Every key expires when idle.
package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// Store implements detect.Store on a Redis client, standalone or cluster.
// The detector puts every key of a workspace under the hash tag of its id,
// so that each script's keys share a cluster slot.
type Store struct {
	client goredis.UniversalClient
}

// NewStore returns a store that keeps its state through client.
func NewStore(client goredis.UniversalClient) *Store { return &Store{client: client} }

var _ detect.Store = (*Store)(nil)

// scripts are every script the store runs, loaded together when Redis
// does not know one of them (after a restart or a SCRIPT FLUSH).
var scripts = []*goredis.Script{windowScript, hourScript, placeScript, sessionScript, claimScript}

// Check runs every check in one pipelined round trip.
func (s *Store) Check(ctx context.Context, checks detect.Checks) (detect.Results, error) {
	res := detect.Results{
		Windows:   make([]detect.WindowResult, len(checks.Windows)),
		Hours:     make([]detect.HourResult, len(checks.Hours)),
		Locations: make([]detect.LocationResult, len(checks.Locations)),
		Sessions:  make([]detect.SessionResult, len(checks.Sessions)),
	}
	if checks.Len() == 0 {
		return res, nil
	}
	var windows, hours, places, sessions []*goredis.Cmd
	err := s.pipelined(ctx, func(pipe goredis.Pipeliner) {
		windows = make([]*goredis.Cmd, len(checks.Windows))
		for i, c := range checks.Windows {
			windows[i] = queueWindow(ctx, pipe, c)
		}
		hours = make([]*goredis.Cmd, len(checks.Hours))
		for i, c := range checks.Hours {
			hours[i] = queueHour(ctx, pipe, c)
		}
		places = make([]*goredis.Cmd, len(checks.Locations))
		for i, c := range checks.Locations {
			places[i] = queuePlaces(ctx, pipe, c)
		}
		sessions = make([]*goredis.Cmd, len(checks.Sessions))
		for i, c := range checks.Sessions {
			sessions[i] = queueSession(ctx, pipe, c)
		}
	})
	if err != nil {
		return res, fmt.Errorf("run checks: %w", err)
	}
	for i, c := range windows {
		if res.Windows[i], err = windowResult(c); err != nil {
			return res, fmt.Errorf("window %s: %w", checks.Windows[i].Key, err)
		}
	}
	for i, c := range hours {
		if res.Hours[i], err = hourResult(c); err != nil {
			return res, fmt.Errorf("hours %s: %w", checks.Hours[i].Key, err)
		}
	}
	for i, c := range places {
		if res.Locations[i], err = placesResult(c); err != nil {
			return res, fmt.Errorf("places %s: %w", checks.Locations[i].Key, err)
		}
	}
	for i, c := range sessions {
		if res.Sessions[i], err = sessionResult(c); err != nil {
			return res, fmt.Errorf("sessions %s: %w", checks.Sessions[i].Key, err)
		}
	}
	return res, nil
}

// Claim tries every claim in one pipelined round trip.
func (s *Store) Claim(ctx context.Context, claims []detect.Claim) ([]bool, error) {
	out := make([]bool, len(claims))
	if len(claims) == 0 {
		return out, nil
	}
	var cmds []*goredis.Cmd
	err := s.pipelined(ctx, func(pipe goredis.Pipeliner) {
		cmds = make([]*goredis.Cmd, len(claims))
		for i, c := range claims {
			cmds[i] = queueClaim(ctx, pipe, c)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("claim alerts: %w", err)
	}
	for i, c := range cmds {
		n, err := c.Int64()
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", claims[i].Key, err)
		}
		out[i] = n == 1
	}
	return out, nil
}

// pipelined sends what queue adds as one pipeline of EVALSHA calls. When
// Redis does not know a script it loads them all and sends the pipeline
// again, which is safe because every script is idempotent per event.
func (s *Store) pipelined(ctx context.Context, queue func(goredis.Pipeliner)) error {
	for attempt := 0; ; attempt++ {
		pipe := s.client.Pipeline()
		queue(pipe)
		cmds, err := pipe.Exec(ctx)
		if err == nil || attempt > 0 || !missingScript(cmds) {
			return err
		}
		for _, sc := range scripts {
			if err := sc.Load(ctx, s.client).Err(); err != nil {
				return fmt.Errorf("load scripts: %w", err)
			}
		}
	}
}

func missingScript(cmds []goredis.Cmder) bool {
	for _, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// Lua formats numbers with 14 significant digits, so every number a script
// concatenates into a range stays exact for Unix milliseconds.

// reply helpers read the parts of a script's array reply.

func replyArray(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", v)
	}
	return a, nil
}

func replyInt(v any) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("unexpected reply %T, want a number", v)
	}
	return n, nil
}

func replyStrings(v any) ([]string, error) {
	a, err := replyArray(v)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected reply %T, want a string", x)
		}
		out[i] = s
	}
	return out, nil
}

func errReply(v any, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("unexpected reply %v", v)
}
