package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

// scriptedScanner hands on n entries, then fails with err, if any.
type scriptedScanner struct {
	n   int
	err error
}

func (s scriptedScanner) CountEvents(context.Context, activity.Principal, searchapi.EventFilter) (int64, error) {
	return int64(s.n), nil
}

func (s scriptedScanner) ScanEvents(ctx context.Context, p activity.Principal, f searchapi.EventFilter, fn func(searchapi.Entry) error) (int, error) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := range s.n {
		e := activity.NewEvent(p.WorkspaceID, "asset.updated", at.Add(-time.Duration(i)*time.Second))
		e.Actor = activity.Actor{ID: p.UserID, Name: "Ann Lee", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		if err := fn(searchapi.Entry{Event: e, Summary: e.Summary()}); err != nil {
			return i, err
		}
	}
	return s.n, s.err
}

// recordingExports keeps what it is asked to record, and fails when told.
type recordingExports struct {
	recorded chan domain.SystemAction
	err      error
}

func (r *recordingExports) GetSettings(context.Context, activity.Principal) (domain.Settings, error) {
	return domain.Settings{Name: "Acme"}, nil
}

func (r *recordingExports) Record(_ context.Context, _ activity.Principal, a domain.SystemAction) error {
	r.recorded <- a
	return r.err
}

// exportServer serves the export routes to a Berlin workspace's owner on a
// loopback port, answering errors as the platform does.
func exportServer(t *testing.T, s searchapi.Scanner, r ExportRecorder) string {
	t.Helper()
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		status, detail := httpapi.Describe(err)
		return c.Status(status).JSON(httpapi.ErrorBody{Error: detail})
	}})
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(activity.WithPrincipal(c.UserContext(), activity.Principal{
			WorkspaceID: activity.NewEventID(), UserID: activity.NewEventID(), Name: "Ann Lee", Role: activity.RoleOwner, TimeZone: "Europe/Berlin",
		}))
		return c.Next()
	})
	log := logrus.New()
	log.SetOutput(io.Discard)
	(&exportHandlers{scanner: s, recorder: r, log: log, now: time.Now}).register(app.Group("/api/v1"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// TestExportEndings runs exports that end every way one can: complete,
// refused before their first byte, failed after their first entries, and
// complete but not recorded. A refusal is an error answer and records
// nothing; a failure after the first byte cuts the download off, so that
// the client never takes it for whole, and is recorded with the entries
// written and complete false; a complete export is recorded before its
// end reaches the client, and one whose record fails is cut off.
func TestExportEndings(t *testing.T) {
	unavailable := errors.Join(activity.Errorf(activity.EUNAVAILABLE, "", "the activity log cannot be searched at this moment"), errors.New("search: status 503"))
	for _, tt := range []struct {
		name      string
		scanner   scriptedScanner
		recordErr error
		format    string
		status    int
		whole     bool // the download ends as a complete one
		lines     int  // of a whole NDJSON download
		recorded  map[string]any
	}{
		{"complete", scriptedScanner{n: 2500}, nil, "ndjson", http.StatusOK, true, 2500,
			map[string]any{"entries": 2500, "complete": true, "format": "ndjson"}},
		{"complete and empty", scriptedScanner{}, nil, "ndjson", http.StatusOK, true, 0,
			map[string]any{"entries": 0, "complete": true}},
		{"refused before its first entry", scriptedScanner{err: activity.Errorf(activity.ETOOMANY, "", "you are reading 1 export at once")}, nil, "csv", http.StatusTooManyRequests, false, 0, nil},
		{"OpenSearch down before its first entry", scriptedScanner{err: unavailable}, nil, "json", http.StatusServiceUnavailable, false, 0, nil},
		{"OpenSearch down after its first entries", scriptedScanner{n: 3000, err: unavailable}, nil, "csv", http.StatusOK, false, 0,
			map[string]any{"entries": 3000, "complete": false, "ended": "the activity log could not be read to its end"}},
		{"a PDF past its limit", scriptedScanner{n: 10_001}, nil, "pdf", http.StatusBadRequest, false, 0, nil},
		{"complete but not recorded", scriptedScanner{n: 2500}, errors.New("database down"), "ndjson", http.StatusOK, false, 0,
			map[string]any{"entries": 2500, "complete": true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exports := &recordingExports{recorded: make(chan domain.SystemAction, 1), err: tt.recordErr}
			base := exportServer(t, tt.scanner, exports)
			res, err := http.Get(base + "/api/v1/activity/export?format=" + tt.format)
			if err != nil {
				t.Fatal(err)
			}
			body, readErr := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tt.status, body)
			}
			if tt.status != http.StatusOK {
				var e httpapi.ErrorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
					t.Errorf("the refusal is not a JSON error: %.300s", body)
				}
			}
			if whole := readErr == nil; whole != (tt.whole || tt.status != http.StatusOK) {
				t.Errorf("the download read to its end: %v (%v), want %v", whole, readErr, tt.whole)
			}
			if tt.whole && strings.Count(string(body), "\n") != tt.lines {
				t.Errorf("%d lines, want %d", strings.Count(string(body), "\n"), tt.lines)
			}
			// An export is recorded before its download ends, whole or
			// cut off.
			var got *domain.SystemAction
			select {
			case a := <-exports.recorded:
				got = &a
			default:
			}
			switch {
			case tt.recorded == nil && got != nil:
				t.Errorf("a refused export is recorded: %+v", got.Details)
			case tt.recorded != nil && got == nil:
				t.Error("the export is not recorded by the end of its download")
			case got != nil:
				if got.Action != domain.ActionDataExported || !strings.HasPrefix(got.Resource.Name, "activity-acme-") {
					t.Errorf("recorded %s of %+v", got.Action, got.Resource)
				}
				for k, v := range tt.recorded {
					if fmt.Sprint(got.Details[k]) != fmt.Sprint(v) {
						t.Errorf("recorded %s = %v, want %v", k, got.Details[k], v)
					}
				}
			}
		})
	}
}
