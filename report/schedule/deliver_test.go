package schedule

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// TestReportEmailAttachesOrLinks composes the email of a report whose
// files are in the archive: with the files attached, named after the
// report, while they weigh the limit or less together, and with links to
// the archive beyond it.
func TestReportEmailAttachesOrLinks(t *testing.T) {
	const ws = "c0c0c0c0-0000-4000-8000-000000000001"
	archive := disk.Archive{Dir: t.TempDir()}
	pdf, csv := []byte("%PDF-1.4 digest"), []byte("Figure,Value\r\n")
	var files []domain.ArchiveObject
	for _, f := range []struct {
		ext  string
		body []byte
	}{{"pdf", pdf}, {"csv", csv}} {
		obj, err := archive.Put(t.Context(), ws, domain.ArchiveReport, f.ext, bytes.NewReader(f.body))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, obj)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	period := searchapi.Period{From: time.Date(2026, 3, 9, 0, 0, 0, 0, berlin), To: time.Date(2026, 3, 10, 0, 0, 0, 0, berlin), TimeZone: "Europe/Berlin", Location: berlin}
	d := report.Delivery{
		ID: "0199a000-0000-7000-8000-00000000000e", WorkspaceID: ws, Type: alert.ChannelEmail, To: []string{"cfo@example.com"},
		Workspace: "Northwind", Files: files,
		Report: report.Summary{ID: "0199a000-0000-7000-8000-00000000000f", Type: searchapi.ReportCustom, Name: "Daily digest, 2026-03-09", Period: period, Total: 42,
			GeneratedAt: time.Date(2026, 3, 10, 7, 0, 5, 0, time.UTC)},
	}
	limit := int64(len(pdf) + len(csv))
	s := &Scheduler{Config: Config{MaxAttachmentBytes: limit, PublicURL: "https://fluxera.example.com/"}, Archive: archive}

	m, err := s.mail(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "[Fluxera] Daily digest, 2026-03-09" || m.ID != d.ID || m.To[0] != "cfo@example.com" {
		t.Errorf("mail %q to %v as %q", m.Subject, m.To, m.ID)
	}
	for _, want := range []string{"Workspace: Northwind", "Period:    2026-03-09 (Europe/Berlin)", "Actions:   42", "Report id: " + d.Report.ID, "The report is attached."} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "daily-digest-2026-03-09.pdf" || !bytes.Equal(m.Attachments[0].Body, pdf) ||
		m.Attachments[1].Name != "daily-digest-2026-03-09.csv" || m.Attachments[1].ContentType != "text/csv; charset=utf-8" || !bytes.Equal(m.Attachments[1].Body, csv) {
		t.Errorf("attachments %+v", m.Attachments)
	}

	s.Config.MaxAttachmentBytes = limit - 1
	if m, err = s.mail(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 0 {
		t.Errorf("%d files attached over the limit", len(m.Attachments))
	}
	for _, f := range files {
		if !strings.Contains(m.Text, "  https://fluxera.example.com/api/v1/archive/"+f.Name+"\n") {
			t.Errorf("no link to %s:\n%s", f.Name, m.Text)
		}
	}
}
