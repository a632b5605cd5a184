// Package pdf starts every PDF the platform renders (activity exports,
// reports) the same way: A4, the DejaVu Sans fonts shipped in fonts/ so
// that names in any script print as they were typed, and a footer with the
// page number out of the page count. The fonts are DejaVu 2.37 (Bitstream
// Vera license, fonts/LICENSE).
package pdf

import (
	_ "embed"
	"fmt"
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

// New returns an empty PDF with the fonts registered, the footer set and
// automatic page breaks. Add pages with AddPage; check Err before Output.
func New(d Document) *fpdf.Fpdf {
	orientation := "P"
	if d.Landscape {
		orientation = "L"
	}
	f := fpdf.New(orientation, "mm", "A4", "")
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
