package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/csvsafe"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/searchapi"
)

// Writer writes the entries of one export in its format. Nothing is
// written before the first entry or Close, so that an export that fails
// before its first entry has written nothing.
type Writer interface {
	// Entry writes one entry. It returns the error of the writer beneath,
	// and for a PDF EINVALID on field format past MaxPDFEntries.
	Entry(e searchapi.Entry) error
	// Close writes what ends the file (for a PDF, the whole document) and
	// flushes what is buffered. It does not close the writer beneath.
	Close() error
}

// NewWriter returns the writer of x's format over w.
func NewWriter(w io.Writer, x File) Writer {
	switch x.Format {
	case JSON:
		return &jsonWriter{w: w}
	case NDJSON:
		return &ndjsonWriter{w: w}
	case PDF:
		return newPDFWriter(w, x)
	case OCSF:
		return &ocsfWriter{w: w}
	}
	return &csvWriter{w: w, loc: x.Location()}
}

// Columns are the columns of a CSV export, in order.
var Columns = []string{
	"time_utc", "time_local", "time_zone", "id", "actor_name", "actor_email", "actor_role", "actor_type",
	"action", "category", "outcome", "summary", "resource_type", "resource_id", "resource_name", "related",
	"ip", "location", "user_agent", "method", "session_id", "request_id", "changes", "note", "details",
}

// csvWriter writes RFC 4180 CSV (CRLF line ends, quotes where needed) in
// UTF-8 with a byte order mark, which spreadsheets read as UTF-8: a header
// row, then one row per entry. Cells a spreadsheet would run as formulas
// are neutralised.
type csvWriter struct {
	w     io.Writer
	c     *csv.Writer
	loc   *time.Location
	row   []string
	begun bool
}

func (x *csvWriter) begin() error {
	x.begun = true
	if _, err := io.WriteString(x.w, "\ufeff"); err != nil {
		return err
	}
	x.c = csv.NewWriter(x.w)
	x.c.UseCRLF = true
	x.row = make([]string, len(Columns))
	return x.c.Write(Columns)
}

func (x *csvWriter) Entry(e searchapi.Entry) error {
	if !x.begun {
		if err := x.begin(); err != nil {
			return err
		}
	}
	details := ""
	if len(e.Details) > 0 {
		b, err := marshal(e.Details)
		if err != nil {
			return err
		}
		details = string(b)
	}
	x.row = append(x.row[:0],
		utcTime(e.OccurredAt), localTime(e.OccurredAt, x.loc), x.loc.String(), e.ID,
		e.Actor.Name, e.Actor.Email, e.Actor.Role, e.Actor.Type,
		e.Action, e.Category, e.Outcome, e.Summary,
		e.Resource.Type, e.Resource.ID, e.Resource.Name, related(e.Related),
		e.Context.IP, location(e.Context.Location), e.Context.UserAgent, e.Context.Method, e.Context.SessionID, e.Context.RequestID,
		changes(e.Changes), e.Note, details,
	)
	return x.c.Write(csvsafe.Cells(x.row...))
}

func (x *csvWriter) Close() error {
	if !x.begun {
		if err := x.begin(); err != nil {
			return err
		}
	}
	x.c.Flush()
	return x.c.Error()
}

// ndjsonWriter writes one event per line in the activity event's public
// layout, the layout of the activity topic.
type ndjsonWriter struct {
	w    io.Writer
	line eventLine
}

func (x *ndjsonWriter) Entry(e searchapi.Entry) error {
	b, err := x.line.of(e.Event)
	if err != nil {
		return err
	}
	_, err = x.w.Write(b)
	return err
}

func (x *ndjsonWriter) Close() error { return nil }

// ocsfWriter writes one OCSF event per line, as the OCSF topic carries it.
type ocsfWriter struct {
	w io.Writer
}

func (x *ocsfWriter) Entry(e searchapi.Entry) error {
	b, err := ocsf.Marshal(e.Event, "")
	if err != nil {
		return err
	}
	_, err = x.w.Write(b)
	return err
}

func (x *ocsfWriter) Close() error { return nil }

// jsonWriter writes one JSON array of events in their public layout, one
// event a line.
type jsonWriter struct {
	w     io.Writer
	line  eventLine
	begun bool
}

func (x *jsonWriter) Entry(e searchapi.Entry) error {
	b, err := x.line.of(e.Event)
	if err != nil {
		return err
	}
	sep := ",\n"
	if !x.begun {
		sep, x.begun = "[\n", true
	}
	if _, err := io.WriteString(x.w, sep); err != nil {
		return err
	}
	_, err = x.w.Write(b[:len(b)-1]) // without its newline
	return err
}

func (x *jsonWriter) Close() error {
	end := "\n]\n"
	if !x.begun {
		end = "[]\n"
	}
	_, err := io.WriteString(x.w, end)
	return err
}

// eventLine encodes events as NDJSON lines: the event's JSON, its details'
// keys sorted and numbers as they were read, with no HTML escaping, and a
// newline. These are the bytes an NDJSON export writes, and those a PDF's
// checksum is of.
type eventLine struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// of returns the line of e, valid until the next call.
func (l *eventLine) of(e activity.Event) ([]byte, error) {
	if l.enc == nil {
		l.enc = json.NewEncoder(&l.buf)
		l.enc.SetEscapeHTML(false)
	}
	l.buf.Reset()
	if err := l.enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return l.buf.Bytes(), nil
}

// marshal is v's JSON without HTML escaping or a newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
