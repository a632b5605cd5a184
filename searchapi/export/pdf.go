package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/internal/pdf"
	"github.com/fluxera/activity/searchapi"
)

// TooManyForPDF is the refusal of a PDF of more than MaxPDFEntries
// entries, EINVALID on field format; n is how many there are, or 0 when
// that is not known.
func TooManyForPDF(n int64) error {
	has := "more"
	if n > 0 {
		has = fmt.Sprintf("%d", n)
	}
	return activity.Errorf(activity.EINVALID, "format",
		"a PDF export holds at most %d entries and these filters select %s; narrow the period or the filters, or pick format csv, json, ndjson or ocsf, which have no limit",
		MaxPDFEntries, has)
}

// pdfWriter holds the entries, at most MaxPDFEntries, and the checksum of
// their NDJSON lines, and writes the document on Close: a title page that
// says what the export holds, then a table of the entries.
type pdfWriter struct {
	w       io.Writer
	x       File
	entries []searchapi.Entry
	sum     hash.Hash
	line    eventLine
	cover   covering
}

func newPDFWriter(w io.Writer, x File) *pdfWriter {
	return &pdfWriter{w: w, x: x, sum: sha256.New()}
}

func (p *pdfWriter) Entry(e searchapi.Entry) error {
	if len(p.entries) >= MaxPDFEntries {
		return TooManyForPDF(0)
	}
	b, err := p.line.of(e.Event)
	if err != nil {
		return err
	}
	p.sum.Write(b)
	p.entries = append(p.entries, e)
	p.cover.saw(e.Event)
	return nil
}

func (p *pdfWriter) Close() error {
	cp, err := p.cover.checkpoint(p.x)
	if err != nil {
		return err
	}
	doc := p.render()
	p.integrity(doc, cp)
	if err := doc.Error(); err != nil {
		return fmt.Errorf("render the PDF export: %w", err)
	}
	return doc.Output(p.w)
}

// The table's columns: their titles and widths in millimetres, which fill
// a landscape A4 page within its margins.
var pdfColumns = []struct {
	title string
	width float64
}{
	{"Time", 33}, {"Who", 42}, {"What", 65}, {"Resource", 40}, {"From", 37}, {"Changes, note, details", 50},
}

// Sizes of the table, in points and millimetres.
const (
	tableFont   = 7.5
	lineHeight  = 3.4
	rowPadding  = 1.2
	maxRowLines = 12 // a cell's text past this is cut, so that a row fits on a page
)

func (p *pdfWriter) render() *pdf.Doc {
	x, loc := p.x, p.x.Location()
	doc := pdf.New(pdf.Document{Title: "Activity export — " + x.Workspace, Landscape: true, Created: x.At})
	doc.AddPage()
	doc.SetFont(pdf.Font, "B", 20)
	doc.MultiCell(0, 11, "Activity export", "", "L", false)
	doc.Ln(3)
	field := func(label, value string) {
		doc.SetFont(pdf.Font, "B", 11)
		doc.CellFormat(45, 6.5, label, "", 0, "L", false, 0, "")
		doc.SetFont(pdf.Font, "", 11)
		doc.MultiCell(0, 6.5, value, "", "L", false)
		doc.Ln(1)
	}
	by := x.By.Name
	if x.By.Email != "" {
		by = strings.TrimSpace(by + " <" + x.By.Email + ">")
	}
	field("Workspace", x.Workspace)
	field("Exported by", fmt.Sprintf("%s, %s", by, x.By.Role))
	field("Exported at", fmt.Sprintf("%s (%s), %s UTC", x.At.In(loc).Format("2 January 2006 15:04:05"), loc, x.At.UTC().Format("15:04:05")))
	field("Period", x.Period())
	field("Filters", strings.Join(x.Filters(), "\n"))
	field("Entries", fmt.Sprintf("%d", len(p.entries)))
	field("SHA-256", hex.EncodeToString(p.sum.Sum(nil)))
	doc.Ln(3)
	doc.SetFont(pdf.Font, "", 9)
	doc.SetTextColor(90, 90, 90)
	doc.MultiCell(0, 5, "The entries are listed newest first, with times in "+loc.String()+" and in UTC. "+
		"The SHA-256 is that of the entries as the NDJSON export of the same filters writes them: each entry's event as one line of JSON, newest first. "+
		"An NDJSON export of these filters whose entry lines (all but a last checkpoint line) have this checksum holds exactly these entries. "+
		"The last page, Integrity, names the signed checkpoint that covers them.", "", "L", false)
	doc.SetTextColor(0, 0, 0)
	if len(p.entries) == 0 {
		doc.Ln(4)
		doc.SetFont(pdf.Font, "B", 11)
		doc.MultiCell(0, 6, "No entry matches these filters in this period.", "", "L", false)
		return doc
	}
	doc.AddPage()
	p.tableHeader(doc)
	for _, e := range p.entries {
		p.row(doc, e)
	}
	return doc
}

// integrity writes the last page: the signed checkpoint that covers the
// entries, cp, or that none does, and how to verify the entries offline.
func (p *pdfWriter) integrity(doc *pdf.Doc, cp *audit.Checkpoint) {
	doc.AddPage()
	doc.SetFont(pdf.Font, "B", 16)
	doc.MultiCell(0, 9, "Integrity", "", "L", false)
	doc.Ln(2)
	field := func(label, value string) {
		doc.SetFont(pdf.Font, "B", 10)
		doc.CellFormat(45, 6, label, "", 0, "L", false, 0, "")
		doc.SetFont(pdf.Font, "", 10)
		doc.MultiCell(0, 6, value, "", "L", false)
	}
	field("Workspace id", p.x.WorkspaceID)
	text := "No signed checkpoint covered these entries when they were exported: none of them has a place in the workspace's hash chain, " +
		"or the chain had not been signed up to them yet. An export made once the next checkpoint is signed carries one."
	if cp != nil {
		field("Checkpoint", fmt.Sprintf("sequence number %d", cp.Seq))
		field("Hash", cp.Hash)
		field("Signed at", cp.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
		field("Key id", cp.KeyID)
		field("Signature", cp.Signature)
		text = "The platform signed (Ed25519) that the workspace's hash chain had this hash at this sequence number. " +
			"To verify these entries offline, export the same filters as NDJSON (it ends with this checkpoint), save the published keys " +
			"(GET /api/v1/audit/keys) as keys.json, and run: fluxera verify --file activity.ndjson --keys keys.json. " +
			"It checks the checkpoint's signature, that every entry gives its hash and follows the one before, and that the chain reaches this hash; " +
			"otherwise it names the first broken sequence number. An export of every entry from the workspace's first is checked whole; " +
			"see Compliance in the platform's documentation."
	}
	doc.Ln(3)
	doc.SetFont(pdf.Font, "", 9)
	doc.MultiCell(0, 5, text, "", "L", false)
}

// tableHeader writes the titles of the table's columns.
func (p *pdfWriter) tableHeader(doc *pdf.Doc) {
	doc.SetFont(pdf.Font, "B", 8)
	doc.SetFillColor(235, 235, 235)
	for _, c := range pdfColumns {
		doc.CellFormat(c.width, 6, c.title, "B", 0, "L", true, 0, "")
	}
	doc.Ln(-1)
	doc.SetFont(pdf.Font, "", tableFont)
}

// row writes one entry as a row of the table, on the next page when it
// does not fit on this one.
func (p *pdfWriter) row(doc *pdf.Doc, e searchapi.Entry) {
	loc := p.x.Location()
	local := e.OccurredAt.In(loc)
	cells := []string{
		local.Format("2006-01-02 15:04:05") + "\n" + e.OccurredAt.UTC().Format("15:04:05") + " UTC",
		lines(e.Actor.Name, e.Actor.Email, join(" · ", e.Actor.Role, e.Actor.Type)),
		lines(e.Summary, join(" · ", e.Action, e.Outcome)),
		lines(append([]string{resource(e.Resource)}, strings.Split(related(e.Related), "; ")...)...),
		lines(e.Context.IP, location(e.Context.Location), join(" · ", e.Context.Method, session(e.Context.SessionID)), e.Context.UserAgent),
		p.notes(e),
	}
	split := make([][]string, len(cells))
	height := 0
	for i, c := range cells {
		split[i] = doc.SplitText(c, pdfColumns[i].width)
		if len(split[i]) > maxRowLines {
			split[i] = append(split[i][:maxRowLines-1], "…")
		}
		height = max(height, len(split[i]))
	}
	h := float64(height)*lineHeight + 2*rowPadding
	_, pageHeight := doc.GetPageSize()
	_, _, _, bottom := doc.GetMargins()
	if doc.GetY()+h > pageHeight-bottom {
		doc.AddPage()
		p.tableHeader(doc)
	}
	left, _, _, _ := doc.GetMargins()
	y, x := doc.GetY(), left
	for i, ls := range split {
		for j, l := range ls {
			doc.SetXY(x, y+rowPadding+float64(j)*lineHeight)
			doc.CellFormat(pdfColumns[i].width, lineHeight, l, "", 0, "L", false, 0, "")
		}
		x += pdfColumns[i].width
	}
	doc.SetDrawColor(210, 210, 210)
	doc.Line(left, y+h, x, y+h)
	doc.SetXY(left, y+h)
}

// notes is the last column of an entry: its changes, one a line, its note
// and its details.
func (p *pdfWriter) notes(e searchapi.Entry) string {
	var out []string
	if c := changes(e.Changes); c != "" {
		out = append(out, strings.Split(c, "; ")...)
	}
	if e.Note != "" {
		out = append(out, "Note: "+e.Note)
	}
	if len(e.Details) > 0 {
		if b, err := marshal(e.Details); err == nil {
			out = append(out, "Details: "+string(b))
		}
	}
	return strings.Join(out, "\n")
}

// lines joins the parts that are not empty, one a line.
func lines(parts ...string) string { return join("\n", parts...) }

// join joins the parts that are not empty with sep.
func join(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// session names a session by the start of its id.
func session(id string) string {
	if id == "" {
		return ""
	}
	return "session " + id[:min(8, len(id))]
}
