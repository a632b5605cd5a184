// Package redis keeps the detector's memory in Redis: sliding windows of
// events, each user's active hours, known places and sessions, and the
// cooldown claims of raised alerts. Every check is one atomic step of a
// Lua script; a batch's checks of one kind and workspace travel as one
// script call, and all of them in one pipelined round trip.
// Sorted sets are scored by the events' own time and keyed by event id, so
// a redelivered event is never counted twice. Every key expires when idle.
package redis

import (
	"context"
	"fmt"
	"strings"

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

// Check runs every check in one pipelined round trip, as one script call
// per kind of check and hash slot (the workspace): a batch of any size
// costs Redis a few script calls, not one per event.
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
	windows := bySlot(checks.Windows, func(c detect.WindowCheck) string { return c.Key })
	hours := bySlot(checks.Hours, func(c detect.HourCheck) string { return c.Key })
	places := bySlot(checks.Locations, func(c detect.LocationCheck) string { return c.Key })
	sessions := bySlot(checks.Sessions, func(c detect.SessionCheck) string { return c.Key })
	err := s.pipelined(ctx, func(pipe goredis.Pipeliner) {
		windows.queue(ctx, pipe, windowScript, windowArgs)
		hours.queue(ctx, pipe, hourScript, hourArgs)
		places.queue(ctx, pipe, placeScript, placeArgs)
		sessions.queue(ctx, pipe, sessionScript, sessionArgs)
	})
	if err != nil {
		return res, fmt.Errorf("run checks: %w", err)
	}
	if err := groupResults(windows, res.Windows, windowResult, "window"); err != nil {
		return res, err
	}
	if err := groupResults(hours, res.Hours, hourResult, "hours"); err != nil {
		return res, err
	}
	if err := groupResults(places, res.Locations, placesResult, "places"); err != nil {
		return res, err
	}
	if err := groupResults(sessions, res.Sessions, sessionResult, "sessions"); err != nil {
		return res, err
	}
	return res, nil
}

// Claim tries every claim in one pipelined round trip, as one script call
// per hash slot.
func (s *Store) Claim(ctx context.Context, claims []detect.Claim) ([]bool, error) {
	out := make([]bool, len(claims))
	if len(claims) == 0 {
		return out, nil
	}
	groups := bySlot(claims, func(c detect.Claim) string { return c.Key })
	err := s.pipelined(ctx, func(pipe goredis.Pipeliner) {
		groups.queue(ctx, pipe, claimScript, claimArgs)
	})
	if err != nil {
		return nil, fmt.Errorf("claim alerts: %w", err)
	}
	granted := func(v any) (bool, error) {
		n, err := replyInt(v)
		return n == 1, err
	}
	if err := groupResults(groups, out, granted, "claim"); err != nil {
		return nil, err
	}
	return out, nil
}

// slotGroups are checks of one kind split by the hash slot of their keys,
// each group in the checks' order, with the script call of each group.
type slotGroups[C any] struct {
	checks []C
	key    func(C) string
	groups [][]int
	cmds   []*goredis.Cmd
}

// bySlot splits checks by the hash tag of their keys (the workspace id in
// braces), so that each script call's keys share a Redis Cluster slot.
func bySlot[C any](checks []C, key func(C) string) *slotGroups[C] {
	g := &slotGroups[C]{checks: checks, key: key}
	index := map[string]int{}
	for i, c := range checks {
		tag := hashTag(key(c))
		j, ok := index[tag]
		if !ok {
			j = len(g.groups)
			index[tag] = j
			g.groups = append(g.groups, nil)
		}
		g.groups[j] = append(g.groups[j], i)
	}
	return g
}

// queue adds one call of script per group to pipe, with the keys and
// arguments args makes of the group's checks.
func (g *slotGroups[C]) queue(ctx context.Context, pipe goredis.Pipeliner, script *goredis.Script, args func([]C) ([]string, []any)) {
	g.cmds = make([]*goredis.Cmd, len(g.groups))
	for j, group := range g.groups {
		checks := g.checks
		if len(g.groups) > 1 {
			checks = make([]C, len(group))
			for k, i := range group {
				checks[k] = g.checks[i]
			}
		}
		keys, argv := args(checks)
		g.cmds[j] = script.EvalSha(ctx, pipe, keys, argv...)
	}
}

// groupResults reads each group's answer, one per check, into out by the
// checks' positions.
func groupResults[C, R any](g *slotGroups[C], out []R, read func(any) (R, error), what string) error {
	for j, group := range g.groups {
		v, err := g.cmds[j].Result()
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, g.key(g.checks[group[0]]), err)
		}
		answers, err := replyArray(v)
		if err == nil && len(answers) != len(group) {
			err = fmt.Errorf("%d answers to %d checks", len(answers), len(group))
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, g.key(g.checks[group[0]]), err)
		}
		for k, i := range group {
			if out[i], err = read(answers[k]); err != nil {
				return fmt.Errorf("%s %s: %w", what, g.key(g.checks[i]), err)
			}
		}
	}
	return nil
}

// keyList is the keys of one script call, each once, in the order first
// given; checks name their keys by position, as Lua counts (from 1), so
// that a user's many checks in a call send their keys once.
type keyList struct {
	keys  []string
	index map[string]int
}

// one returns the position of key, adding it if it is new.
func (l *keyList) one(key string) int {
	if i, ok := l.index[key]; ok {
		return i
	}
	if l.index == nil {
		l.index = map[string]int{}
	}
	l.keys = append(l.keys, key)
	l.index[key] = len(l.keys)
	return len(l.keys)
}

// pair returns the number of the pair of keys named after first (the
// pair's keys are at 2n-1 and 2n), adding the pair if it is new; second
// is only made when the pair is new.
func (l *keyList) pair(first string, second func() string) int {
	if n, ok := l.index[first]; ok {
		return n
	}
	if l.index == nil {
		l.index = map[string]int{}
	}
	l.keys = append(l.keys, first, second())
	n := len(l.keys) / 2
	l.index[first] = n
	return n
}

// hashTag is the part of key Redis Cluster hashes: the text between the
// first "{" and the next "}", when not empty, or else the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
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
