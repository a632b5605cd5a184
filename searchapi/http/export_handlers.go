package http

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/export"
)

// ExportRecorder records every export as system.data_exported and names
// the workspace in the files; the domain's settings service is one.
type ExportRecorder interface {
	// GetSettings returns the caller's workspace settings, its name
	// among them.
	GetSettings(ctx context.Context, p activity.Principal) (domain.Settings, error)
	// Record records a system action by p.
	Record(ctx context.Context, p activity.Principal, a domain.SystemAction) error
}

// CheckpointFinder finds the signed checkpoint that covers an export; the
// chain's PostgreSQL store is one.
type CheckpointFinder interface {
	// CheckpointCovering returns the workspace's latest checkpoint with a
	// sequence number at or below upTo, nil when there is none.
	CheckpointCovering(ctx context.Context, workspace string, upTo int64) (*audit.Checkpoint, error)
}

// recordTimeout bounds recording an export once it has ended, whatever
// became of its request.
const recordTimeout = 10 * time.Second

// exportParams are the query parameters of an export: the activity log's
// filters, search and period, and format; no page size, cursor or facets.
var exportParams = func() map[string]httpapi.QueryParam {
	params := map[string]httpapi.QueryParam{"format": {}, "anonymize": {}}
	for k, v := range listParams {
		switch k {
		case "limit", "cursor", "facets":
		default:
			params[k] = v
		}
	}
	return params
}()

// exportHandlers serve the exports of the activity log and of the
// histories.
type exportHandlers struct {
	scanner     searchapi.Scanner
	recorder    ExportRecorder
	checkpoints CheckpointFinder
	log         logrus.FieldLogger
	// now is the clock that named ranges such as today are read from.
	now func() time.Time
}

func (h *exportHandlers) register(api fiber.Router) {
	api.Get("/activity/export", h.export(nil))
	api.Get("/me/activity/export", h.export(ownActivity))
	api.Get("/users/:id/activity/export", h.export(userActivity))
	api.Get("/assets/:id/history/export", h.export(history(activity.CategoryAsset)))
	api.Get("/licenses/:id/history/export", h.export(history(activity.CategoryLicense)))
}

// export returns the handler of one export: the listing's query
// parameters and format read, the route's narrowing applied, and the file
// streamed as it is written.
func (h *exportHandlers) export(narrow narrowing) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ExportData); err != nil {
			return err
		}
		var format string
		var anonymize bool
		params := map[string]string{}
		filter, err := readQueryFilter(c, exportParams, func(key, val string) error {
			switch key {
			case "format":
				format = val
			case "anonymize":
				b, err := strconv.ParseBool(val)
				if err != nil {
					return activity.Errorf(activity.EINVALID, "anonymize", "anonymize must be true or false")
				}
				anonymize = b
			}
			return nil
		}, params)
		if err != nil {
			return err
		}
		f, err := export.ParseFormat(format)
		if err != nil {
			return err
		}
		if narrow != nil {
			if err := narrow(c, p, &filter); err != nil {
				return err
			}
		}
		now := h.now()
		if err := filter.Validate(now, searchapi.Zone(p.TimeZone)); err != nil {
			return err
		}
		ctx := c.UserContext()
		settings, err := h.recorder.GetSettings(ctx, p)
		if err != nil {
			return err
		}
		x := export.File{Format: f, Workspace: settings.Name, WorkspaceID: p.WorkspaceID, By: p, At: now, Filter: filter}
		scan := pinned(filter)
		if f == export.PDF {
			n, err := h.scanner.CountEvents(ctx, p, scan)
			if err != nil {
				return err
			}
			if n > export.MaxPDFEntries {
				return export.TooManyForPDF(n)
			}
		}
		c.Set(fiber.HeaderContentType, f.ContentType())
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": x.Name()}))
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		if c.Method() == fiber.MethodHead {
			return nil
		}
		run := &exportRun{h: h, p: p, file: x, scan: scan, params: params, route: c.Route().Path, window: httpapi.NewWriteWindow(c, httpapi.StreamStall)}
		if anonymize {
			// Pseudonyms stable within this export alone.
			run.pseudonyms = privacy.NewPseudonymizer()
		}
		return run.stream(c)
	}
}

// ownActivity confines an export to the caller's own actions.
func ownActivity(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error {
	f.Actor = p.UserID
	return nil
}

// userActivity confines an export to the actions of the route's user. It
// returns EFORBIDDEN, as the listing does, when the caller may not see
// that user's activity.
func userActivity(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := mayReadUser(p, id); err != nil {
		return err
	}
	f.Actor = id
	return nil
}

// pinned is the validated filter with its period given as the times
// Validate read, so that the scan reads the very period the file names,
// even when a named range such as today moves on meanwhile.
func pinned(f searchapi.EventFilter) searchapi.EventFilter {
	f.Range, f.From, f.To = "", "", ""
	if !f.Since.IsZero() {
		f.From = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		f.To = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return f
}

// exportRun is one export being written: who asked for what, over which
// connection.
type exportRun struct {
	h      *exportHandlers
	p      activity.Principal
	file   export.File
	scan   searchapi.EventFilter
	params map[string]string
	route  string
	// window keeps the response going past the server's write deadline.
	window httpapi.WriteWindow
	// pseudonyms, when anonymize=true was asked for, replace the people
	// in every entry before it is written.
	pseudonyms *privacy.Pseudonymizer
}

// stream answers the export as it is written: the entries are read from
// one point in time and each written to the response as it comes, so
// that nothing but a page of entries is held, whatever the size of the
// export (a PDF holds its entries, at most export.MaxPDFEntries, until it
// is written). Until the first byte is written, a failure (a limit of
// points in time, OpenSearch down, too many entries for a PDF) is answered
// as any other error; after it, the status is sent, and an export that
// then fails is cut off without its end, so that the client sees a
// broken download rather than a short file. Either way, once anything
// was written, the export is recorded as system.data_exported with the
// number of entries written and whether it was complete, after the last
// entry: a complete export's end reaches the client only once it is
// recorded.
func (r *exportRun) stream(c *fiber.Ctx) error {
	reqCtx := c.UserContext()
	// The request's context ends when the handler returns; the export
	// goes on after, while its response is written.
	ctx, cancel := context.WithCancel(context.WithoutCancel(reqCtx))
	started := make(chan error, 1)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		out := &firstWrite{w: w, started: started}
		defer func() {
			if v := recover(); v != nil {
				out.signal(fmt.Errorf("export panicked: %v", v))
				r.h.log.WithField("panic", fmt.Sprint(v)).WithField("request_id", domain.RequestFrom(reqCtx).RequestID).Error("An export panicked.")
				if out.wrote {
					r.abort()
				}
			}
		}()
		n, err := r.write(ctx, out)
		if !out.wrote {
			// Nothing left: the handler answers the outcome.
			out.signal(err)
			if err != nil {
				return
			}
		}
		if err := r.record(reqCtx, n, err, out.err); err != nil {
			r.h.log.WithError(err).WithField("request_id", domain.RequestFrom(reqCtx).RequestID).Error("An export could not be recorded; its download is cut off.")
			r.abort()
			return
		}
		if err != nil {
			if out.err == nil {
				r.h.log.WithError(err).WithFields(logrus.Fields{"request_id": domain.RequestFrom(reqCtx).RequestID, "entries": n}).
					Error("An export failed after its first entries; its download is cut off.")
			}
			r.abort()
		}
	})
	select {
	case err := <-started:
		return err
	case <-reqCtx.Done():
		select {
		case err := <-started: // it began just then
			return err
		default:
		}
		// The client went away, or the first entries took longer than a
		// request may: the export stops.
		cancel()
		if err := <-started; err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	}
}

// write scans the entries into the file's writer over out and returns how
// many it wrote. Each write gives the client httpapi.StreamStall more to take in
// what it was sent.
func (r *exportRun) write(ctx context.Context, out *firstWrite) (int, error) {
	x := r.file
	if r.h.checkpoints != nil {
		// The checkpoint that covers the entries is found once they are
		// written, on the export's own context.
		x.Checkpoint = func(upTo int64) (*audit.Checkpoint, error) {
			return r.h.checkpoints.CheckpointCovering(ctx, r.p.WorkspaceID, upTo)
		}
	}
	fw := export.NewWriter(out, x)
	n := 0
	_, err := r.h.scanner.ScanEvents(ctx, r.p, r.scan, func(e searchapi.Entry) error {
		if r.pseudonyms != nil {
			r.pseudonyms.Entry(&e.Event, &e.Summary)
		}
		if err := fw.Entry(e); err != nil {
			return err
		}
		n++
		if n%256 == 0 && out.wrote {
			r.giveTime()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	r.giveTime()
	if err := fw.Close(); err != nil {
		return n, err
	}
	return n, out.Flush()
}

// record records the export: its file, format, filters in words and as
// parameters, how many entries were written and whether all were. failed
// is why it ended early, if it did, and gone the write error that says its
// client went away.
func (r *exportRun) record(reqCtx context.Context, n int, failed, gone error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), recordTimeout)
	defer cancel()
	details := map[string]any{
		"dataset":    "activity",
		"format":     string(r.file.Format),
		"route":      r.route,
		"filters":    strings.Join(r.file.Filters(), "; "),
		"period":     r.file.Period(),
		"parameters": r.params,
		"entries":    n,
		"complete":   failed == nil,
	}
	switch {
	case gone != nil:
		details["ended"] = "the client went away, or stopped reading, before the end of the download"
	case failed != nil:
		details["ended"] = "the activity log could not be read to its end"
	}
	return r.h.recorder.Record(ctx, r.p, domain.SystemAction{
		Action:   domain.ActionDataExported,
		Resource: activity.Resource{Type: "export", Name: r.file.Name()},
		Details:  details,
	})
}

// giveTime gives the client httpapi.StreamStall from now to take in what
// it was sent: the server's own write deadline would end a long export.
func (r *exportRun) giveTime() { r.window.Give() }

// abort closes the connection, so that the client sees its download cut
// off rather than ended.
func (r *exportRun) abort() { r.window.Abort() }

// firstWrite passes writes on to w and says on started, once, when the
// first one comes: from then on the response has begun. It keeps the
// first error of w, which says that the client went away.
type firstWrite struct {
	w       *bufio.Writer
	started chan<- error
	once    sync.Once
	wrote   bool
	err     error
}

func (f *firstWrite) Write(b []byte) (int, error) {
	if !f.wrote {
		f.wrote = true
		f.signal(nil)
	}
	n, err := f.w.Write(b)
	if err != nil && f.err == nil {
		f.err = err
	}
	return n, err
}

// Flush writes what w buffers, keeping its error as Write does.
func (f *firstWrite) Flush() error {
	err := f.w.Flush()
	if err != nil && f.err == nil {
		f.err = err
	}
	return err
}

// signal says, once, that the response has begun (err nil) or that the
// export ended with err before writing anything.
func (f *firstWrite) signal(err error) {
	f.once.Do(func() { f.started <- err })
}
