// Package stream serves the live activity stream,
// GET /api/v1/activity/stream: Server-Sent Events of the caller's
// workspace as the activity topic carries them, with the activity log's
// filters and scope, resumable with Last-Event-ID.
//
// Each stream reads its workspace's partition from its own offset, rather
// than all streams sharing one reader that fans out: a resumed stream
// starts exactly after the event its Last-Event-ID names, however far
// back, and a slow client holds back only its own reader, never another
// stream nor the process. The cost, one fetch per stream, is bounded by
// the number of streams a workspace may hold open.
package stream

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	integrationkafka "github.com/fluxera/activity/integration/kafka"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

// Config bounds the streams.
type Config struct {
	// MaxPerWorkspace is how many streams one workspace may hold open at
	// once, across every API process.
	MaxPerWorkspace int
	// Heartbeat is how often an idle stream sends a comment line, so that
	// proxies and clients know it is alive.
	Heartbeat time.Duration
}

// Defaults of Config.
const (
	DefaultMaxPerWorkspace = 10
	DefaultHeartbeat       = 15 * time.Second
)

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.MaxPerWorkspace == 0 {
		c.MaxPerWorkspace = DefaultMaxPerWorkspace
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.MaxPerWorkspace < 1 || c.MaxPerWorkspace > 10000 {
		return errors.New("stream: FLUXERA_STREAM_MAX_PER_WORKSPACE must be between 1 and 10000")
	}
	if c.Heartbeat < 10*time.Millisecond || c.Heartbeat > 10*time.Minute {
		return errors.New("stream: FLUXERA_STREAM_HEARTBEAT must be between 10ms and 10m")
	}
	return nil
}

// Log reads the activity topic's partitions; integrationkafka.Log is one.
type Log interface {
	Partitions(ctx context.Context) ([]int, error)
	Offsets(ctx context.Context, partition int, at time.Time) (integrationkafka.Offsets, int64, error)
	Read(partition int, offset int64) (*integrationkafka.Reader, error)
}

// Service serves the streams of one API process.
type Service struct {
	cfg    Config
	log    Log
	key    []byte
	logger logrus.FieldLogger

	// streams counts the open streams for operators.
	streams prometheus.Gauge

	slots Slots

	done   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup
}

// Slots count the streams open on every API process, so that a
// workspace's limit holds across them; postgres.StreamSlots is one.
type Slots interface {
	// Acquire takes one of the workspace's max slots until ttl has
	// passed and returns its id, or ETOOMANY when all are taken.
	Acquire(ctx context.Context, workspaceID string, max int, ttl time.Duration) (string, error)
	// Renew keeps a slot for ttl more.
	Renew(ctx context.Context, id string, ttl time.Duration) error
	// Release gives a slot back.
	Release(ctx context.Context, id string) error
}

// New returns the stream service: cfg must have been validated, key signs
// the event ids, slots hold each workspace to its number of streams, and
// the number of open streams is registered on reg.
func New(cfg Config, log Log, slots Slots, key []byte, logger logrus.FieldLogger, reg prometheus.Registerer) *Service {
	streams := prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxera_activity_streams_open", Help: "Live activity streams open on this API process."})
	reg.MustRegister(streams)
	return &Service{cfg: cfg, log: log, slots: slots, key: key, logger: logger, streams: streams, done: make(chan struct{})}
}

// slotTTL is how long a stream's slot lasts unless renewed: a stream
// renews it at every heartbeat, so only a stream whose process died
// lets it lapse.
func (s *Service) slotTTL() time.Duration { return 3*s.cfg.Heartbeat + 10*time.Second }

// Register mounts GET /activity/stream on api, a router whose requests
// carry their principal. It must come before /activity/:id.
func (s *Service) Register(api fiber.Router) {
	api.Get("/activity/stream", s.serve)
}

// Close ends every open stream and waits for them to end, so that the
// server's shutdown is not held up by them.
func (s *Service) Close() {
	s.closed.Do(func() { close(s.done) })
	s.wg.Wait()
}

// streamParams are the activity log's filters a stream takes; search
// text, periods and paging have no meaning on a stream that starts now.
var streamParams = map[string]httpapi.QueryParam{
	"user": {Repeatable: true}, "category": {Repeatable: true}, "action": {Repeatable: true},
	"resource": {Repeatable: true}, "ip": {Repeatable: true}, "outcome": {}, "last_event_id": {},
}

// readFilter reads the query into a filter and the event id to resume
// after (the Last-Event-ID header, or last_event_id for clients that
// cannot set headers). It returns EINVALID naming a bad parameter.
func readFilter(c *fiber.Ctx) (searchapi.EventFilter, string, error) {
	var f searchapi.EventFilter
	last := strings.TrimSpace(c.Get("Last-Event-ID"))
	err := httpapi.ReadQuery(c, "filter", streamParams, func(key, val string) error {
		list := strings.Split(val, ",")
		switch key {
		case "user":
			f.Users = append(f.Users, list...)
		case "category":
			f.Categories = append(f.Categories, list...)
		case "action":
			f.Actions = append(f.Actions, list...)
		case "resource":
			f.Resources = append(f.Resources, list...)
		case "ip":
			f.IPs = append(f.IPs, list...)
		case "outcome":
			f.Outcome = val
		case "last_event_id":
			if last == "" {
				last = val
			}
		}
		return nil
	})
	if err != nil {
		return f, "", err
	}
	if err := f.Validate(time.Now(), time.UTC); err != nil {
		return f, "", err
	}
	return f, last, nil
}

// acquire takes a slot of the workspace, or returns ETOOMANY.
func (s *Service) acquire(ctx context.Context, workspaceID string) (string, error) {
	select {
	case <-s.done:
		return "", activity.Errorf(activity.EUNAVAILABLE, "", "the server is shutting down; reconnect shortly")
	default:
	}
	id, err := s.slots.Acquire(ctx, workspaceID, s.cfg.MaxPerWorkspace, s.slotTTL())
	if err != nil {
		return "", err
	}
	s.wg.Add(1)
	s.streams.Inc()
	return id, nil
}

// release gives the slot back, even once the request's context is over.
func (s *Service) release(slot string) {
	defer s.wg.Done()
	s.streams.Dec()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.slots.Release(ctx, slot); err != nil {
		s.logger.WithError(err).Warn("An activity stream's slot could not be given back; it lapses by itself.")
	}
}

// serve checks the request, finds where the stream starts and streams.
func (s *Service) serve(c *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(c.UserContext())
	if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
		return err
	}
	filter, last, err := readFilter(c)
	if err != nil {
		return err
	}
	var after *cursor
	if last != "" {
		cur, err := decodeCursor(s.key, p.WorkspaceID, last)
		if err != nil {
			return err
		}
		after = &cur
	}
	ctx := c.UserContext()
	parts, err := s.log.Partitions(ctx)
	if err != nil {
		return unavailable(err)
	}
	partition := integrationkafka.PartitionOf(p.WorkspaceID, parts)
	offs, _, err := s.log.Offsets(ctx, partition, time.Time{})
	if err != nil {
		return unavailable(err)
	}
	start := offs.End
	if after != nil {
		switch {
		case after.Partition != partition:
			return activity.Errorf(activity.EINVALID, cursorField, "Last-Event-ID has expired: the activity topic was repartitioned; reconnect without it")
		case after.Offset+1 < offs.First:
			return activity.Errorf(activity.EINVALID, cursorField, "Last-Event-ID has expired: the events after it are no longer kept; reconnect without it")
		case after.Offset >= offs.End:
			return activity.Errorf(activity.EINVALID, cursorField, "Last-Event-ID is not an id this stream sent; reconnect without it to start from now")
		}
		start = after.Offset + 1
	}
	slot, err := s.acquire(ctx, p.WorkspaceID)
	if err != nil {
		return err
	}
	r, err := s.log.Read(partition, start)
	if err != nil {
		s.release(slot)
		return unavailable(err)
	}
	window, conn := httpapi.NewWriteWindow(c, 0), c.Context().Conn()
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.release(slot)
		defer r.Close()
		s.stream(w, window, conn, r, slot, p, filter, partition)
	})
	return nil
}

func unavailable(err error) error {
	return errors.Join(activity.Errorf(activity.EUNAVAILABLE, "", "the activity stream cannot reach its source just now; try again shortly"), err)
}

// stream writes the events p may see that pass filter until the client
// goes, the server shuts down or the topic cannot be read.
func (s *Service) stream(w *bufio.Writer, window httpapi.WriteWindow, conn net.Conn, r *integrationkafka.Reader, slot string, p activity.Principal, filter searchapi.EventFilter, partition int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs := make(chan integrationkafka.Message)
	readErr := make(chan error, 1)
	go func() {
		for {
			m, err := r.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	send := func(text string) bool {
		window.Give()
		if _, err := w.WriteString(text); err != nil {
			return false
		}
		return w.Flush() == nil
	}
	if !send("retry: 2000\n: connected\n\n") {
		return
	}
	// A client that hangs up is noticed at once, not at the next write.
	// This writer starts while the request's handlers still run, so the
	// watch of the request's deadline (domain/http) may not have ended:
	// CancelWhenGone waits for it, as one watch of a connection runs at
	// a time.
	stop := httpapi.CancelWhenGone(conn, cancel)
	defer stop()
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-s.done:
			send(": the server is shutting down\n\n")
			return
		case <-ctx.Done():
			return
		case err := <-readErr:
			if ctx.Err() != nil {
				return
			}
			s.logger.WithError(err).WithField("workspace_id", p.WorkspaceID).Warn("An activity stream could not read the topic; it ends and the client reconnects.")
			return
		case <-heartbeat.C:
			if !send(": heartbeat\n\n") {
				return
			}
			if err := s.slots.Renew(ctx, slot, s.slotTTL()); err != nil && ctx.Err() == nil {
				s.logger.WithError(err).Warn("An activity stream's slot could not be renewed; the stream goes on.")
			}
		case m := <-msgs:
			var e activity.Event
			if err := json.Unmarshal(m.Value, &e); err != nil || !visible(p, e) || !matches(filter, e) {
				continue
			}
			data, err := json.Marshal(searchapi.Entry{Event: e, Summary: e.Summary()})
			if err != nil {
				continue
			}
			id := cursor{Partition: partition, Offset: m.Offset}.encode(s.key, p.WorkspaceID)
			if !send(fmt.Sprintf("id: %s\nevent: activity\ndata: %s\n\n", id, data)) {
				return
			}
		}
	}
}
