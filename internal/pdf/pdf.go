// Package pdf starts every PDF the platform renders (activity exports,
// reports) the same way: A4, the DejaVu Sans fonts shipped in fonts/ so
// that names in any script print as they were typed, and a footer with the
// page number out of the page count. The fonts are DejaVu 2.37 (Bitstream
// Vera license, fonts/LICENSE).
package pdf

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Font is the family name the shipped fonts are registered under: "" for
// regular and "B" for bold.
const Font = "DejaVu"

var (
	//go:embed fonts/DejaVuSans.ttf
	regular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	bold []byte
)

// Document describes what every page's footer says.
type Document struct {
	// Title is printed at the left of every footer.
	Title string
	// Landscape turns the pages, for wide tables.
	Landscape bool
	// Created is the document's creation time, also written into its
	// metadata.
	Created time.Time
}

// Doc is a PDF being written: fpdf's, whose text methods take any UTF-8
// text. fpdf's UTF-8 fonts know the widths of runes up to U+FFFF only, and
// fail on one beyond (an emoji, say), with an error or a panic; Doc writes
// each such rune as U+FFFD, the replacement character, instead.
type Doc struct{ *fpdf.Fpdf }

// Text returns s with every rune beyond U+FFFF replaced by U+FFFD.
func Text(s string) string {
	if !strings.ContainsFunc(s, beyondBMP) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if beyondBMP(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func beyondBMP(r rune) bool { return r > 0xFFFF }

// Cell is fpdf's Cell with any text.
func (d *Doc) Cell(w, h float64, txtStr string) { d.Fpdf.Cell(w, h, Text(txtStr)) }

// CellFormat is fpdf's CellFormat with any text.
func (d *Doc) CellFormat(w, h float64, txtStr, borderStr string, ln int, alignStr string, fill bool, link int, linkStr string) {
	d.Fpdf.CellFormat(w, h, Text(txtStr), borderStr, ln, alignStr, fill, link, linkStr)
}

// MultiCell is fpdf's MultiCell with any text.
func (d *Doc) MultiCell(w, h float64, txtStr, borderStr, alignStr string, fill bool) {
	d.Fpdf.MultiCell(w, h, Text(txtStr), borderStr, alignStr, fill)
}

// GetStringWidth is fpdf's GetStringWidth of any text.
func (d *Doc) GetStringWidth(s string) float64 { return d.Fpdf.GetStringWidth(Text(s)) }

// SplitText is fpdf's SplitText of any text.
func (d *Doc) SplitText(txt string, w float64) []string { return d.Fpdf.SplitText(Text(txt), w) }

// Write is fpdf's Write with any text.
func (d *Doc) Write(h float64, txtStr string) { d.Fpdf.Write(h, Text(txtStr)) }

// Text is fpdf's Text with any text.
func (d *Doc) Text(x, y float64, txtStr string) { d.Fpdf.Text(x, y, Text(txtStr)) }

// SetTitle is fpdf's SetTitle with any text.
func (d *Doc) SetTitle(titleStr string, isUTF8 bool) { d.Fpdf.SetTitle(Text(titleStr), isUTF8) }

// New returns an empty PDF with the fonts registered, the footer set and
// automatic page breaks. Add pages with AddPage; check Err before Output.
func New(d Document) *Doc {
	orientation := "P"
	if d.Landscape {
		orientation = "L"
	}
	f := &Doc{fpdf.New(orientation, "mm", "A4", "")}
	f.AddUTF8FontFromBytes(Font, "", regular)
	f.AddUTF8FontFromBytes(Font, "B", bold)
	f.SetTitle(d.Title, true)
	f.SetCreator("Fluxera Activity", true)
	if !d.Created.IsZero() {
		f.SetCreationDate(d.Created)
		f.SetModificationDate(d.Created)
	}
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont(Font, "", 8)
		f.SetTextColor(90, 90, 90)
		w, _ := f.GetPageSize()
		left, _, right, _ := f.GetMargins()
		half := (w - left - right) / 2
		f.CellFormat(half, 5, d.Title, "", 0, "L", false, 0, "")
		f.CellFormat(half, 5, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	return f
}
