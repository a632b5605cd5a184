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
