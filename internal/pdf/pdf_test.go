package pdf_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/pdf"
)

// TestNewRendersNonLatinNames writes names in several scripts and checks
// that the document is a PDF that embeds the shipped font.
func TestNewRendersNonLatinNames(t *testing.T) {
	f := pdf.New(pdf.Document{Title: "Activity of Łódź — 東京 — Αθήνα", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	f.AddPage()
	f.SetFont(pdf.Font, "B", 14)
	f.Cell(0, 10, "Zoë Ångström, Иван Петров, 李雷, محمد")
	f.AddPage()
	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		t.Fatal(err)
	}
	b := out.String()
	if !strings.HasPrefix(b, "%PDF-") {
		t.Fatalf("output starts %q, not a PDF", b[:min(8, len(b))])
	}
	if !strings.Contains(strings.ToLower(b), "dejavu") {
		t.Error("the PDF does not embed the DejaVu font")
	}
	if f.PageCount() != 2 {
		t.Errorf("page count = %d, want 2", f.PageCount())
	}
}

// TestTextBeyondTheBasicPlaneIsWritten writes text with runes beyond
// U+FFFF (an emoji, U+10000) through every text method the platform's PDFs
// use: fpdf's UTF-8 fonts know widths up to U+FFFF only and panicked on
// them; they are written as U+FFFD instead.
func TestTextBeyondTheBasicPlaneIsWritten(t *testing.T) {
	for _, text := range []string{"\U00010000", "Laptop 😀 \U0001F4BB", strings.Repeat("\U00010000 ", 200)} {
		f := pdf.New(pdf.Document{Title: "Report " + text})
		f.AddPage()
		f.SetFont(pdf.Font, "", 10)
		f.Cell(40, 6, text)
		f.CellFormat(40, 6, text, "", 1, "L", false, 0, "")
		f.MultiCell(60, 5, text, "", "L", false)
		if w := f.GetStringWidth(text); w <= 0 {
			t.Errorf("width of %q = %v", text, w)
		}
		if lines := f.SplitText(text, 30); len(lines) == 0 {
			t.Errorf("SplitText(%q) gave no lines", text)
		}
		var out bytes.Buffer
		if err := f.Output(&out); err != nil {
			t.Fatal(err)
		}
	}
	if got := pdf.Text("a\U00010000b😀"); got != "a\uFFFDb\uFFFD" {
		t.Errorf("Text = %q", got)
	}
}
