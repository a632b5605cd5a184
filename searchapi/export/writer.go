package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/internal/csvsafe"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/searchapi"
)

// Writer writes the entries of one export in its format. Nothing is
// written before the first entry or Close, so that an export that fails
// before its first entry has written nothing.
//
// The CSV, JSON, NDJSON and PDF files end by stating the signed checkpoint
// that covers them: the workspace's latest at or below the highest
// sequence number among their entries (File.Checkpoint). A JSON file has it
// as its field checkpoint (null when there is none); an NDJSON file as a
// last line {"type":"checkpoint","checkpoint":{…}}, and a CSV file as a
// last line that begins with #checkpoint, both only when there is one; a
// PDF on its last page, Integrity.
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
		return &jsonWriter{w: w, x: x}
	case NDJSON:
		return &ndjsonWriter{w: w, x: x}
	case PDF:
		return newPDFWriter(w, x)
	case OCSF:
		return &ocsfWriter{w: w}
	}
	return &csvWriter{w: w, x: x, loc: x.Location()}
}

// covering keeps the highest sequence number of a file's entries, to find
// the checkpoint that covers them.
type covering struct {
	top int64
}

func (c *covering) saw(e activity.Event) {
	if e.Chain != nil && e.Chain.Seq > c.top {
		c.top = e.Chain.Seq
	}
}

// checkpoint returns the checkpoint that covers the entries seen, nil when
// none of them is chained, x finds no checkpoint, or there is none.
func (c *covering) checkpoint(x File) (*audit.Checkpoint, error) {
	if c.top == 0 || x.Checkpoint == nil {
		return nil, nil
	}
	cp, err := x.Checkpoint(c.top)
	if err != nil {
		return nil, fmt.Errorf("find the checkpoint covering the export: %w", err)
	}
	return cp, nil
}

// CSVCheckpointLine is the last line of a CSV export that states cp:
// "#checkpoint" and the checkpoint's fields as name=value, separated by
// spaces, none of which holds a comma or a quote. Readers of the CSV skip
// it as a comment (lines that begin with #).
func CSVCheckpointLine(cp audit.Checkpoint) string {
	return fmt.Sprintf("#checkpoint workspace_id=%s seq=%d hash=%s created_at=%s key_id=%s signature=%s\r\n",
		cp.WorkspaceID, cp.Seq, cp.Hash, cp.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), cp.KeyID, cp.Signature)
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
	x     File
	cover covering
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
	x.cover.saw(e.Event)
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
	if err := x.c.Error(); err != nil {
		return err
	}
	cp, err := x.cover.checkpoint(x.x)
	if err != nil || cp == nil {
		return err
	}
	_, err = io.WriteString(x.w, CSVCheckpointLine(*cp))
	return err
}

// ndjsonWriter writes one event per line in the activity event's public
// layout, the layout of the activity topic.
type ndjsonWriter struct {
	w     io.Writer
	x     File
	cover covering
	line  eventLine
}

func (x *ndjsonWriter) Entry(e searchapi.Entry) error {
	x.cover.saw(e.Event)
	b, err := x.line.of(e.Event)
	if err != nil {
		return err
	}
	_, err = x.w.Write(b)
	return err
}

func (x *ndjsonWriter) Close() error {
	cp, err := x.cover.checkpoint(x.x)
	if err != nil || cp == nil {
		return err
	}
	b, err := marshal(audit.ExportTrailer{Type: audit.TrailerType, Checkpoint: *cp})
	if err != nil {
		return err
	}
	_, err = x.w.Write(append(b, '\n'))
	return err
}

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

// jsonWriter writes one JSON object: entries, the array of events in
// their public layout, one event a line, and checkpoint.
type jsonWriter struct {
	w     io.Writer
	x     File
	cover covering
	line  eventLine
	begun bool
}

func (x *jsonWriter) Entry(e searchapi.Entry) error {
	x.cover.saw(e.Event)
	b, err := x.line.of(e.Event)
	if err != nil {
		return err
	}
	sep := ",\n"
	if !x.begun {
		sep, x.begun = "{\"entries\": [\n", true
	}
	if _, err := io.WriteString(x.w, sep); err != nil {
		return err
	}
	_, err = x.w.Write(b[:len(b)-1]) // without its newline
	return err
}

func (x *jsonWriter) Close() error {
	cp, err := x.cover.checkpoint(x.x)
	if err != nil {
		return err
	}
	b, err := marshal(cp)
	if err != nil {
		return err
	}
	end := "\n],\n\"checkpoint\": " + string(b) + "}\n"
	if !x.begun {
		end = "{\"entries\": [],\n\"checkpoint\": " + string(b) + "}\n"
	}
	_, err = io.WriteString(x.w, end)
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
