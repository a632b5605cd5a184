package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/report"
)

// WebhookPayload is the JSON body of a generated report sent to a
// webhook: what the report covers and its files in the archive store.
type WebhookPayload struct {
	Type string `json:"type"` // always "report"
	// WorkspaceID and Workspace are the report's workspace, its id and
	// its name.
	WorkspaceID string                 `json:"workspace_id"`
	Workspace   string                 `json:"workspace"`
	Report      report.Summary         `json:"report"`
	Files       []domain.ArchiveObject `json:"files"`
}

// SendDue claims up to BatchSize deliveries due now and sends each once,
// all at the same time so that each is recorded while its lease holds,
// recording the attempt with when to try again: a failure that trying
// again cannot fix, or the last attempt, marks it failed. It returns how
// many it claimed, and an error only when it could not claim any.
func (s *Scheduler) SendDue(ctx context.Context) (int, error) {
	if err := s.setup(); err != nil {
		return 0, err
	}
	ds, err := s.Deliveries.Claim(ctx, s.Config.BatchSize, s.Now(), s.Config.DeliveryLease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { s.deliver(ctx, d) })
	}
	wg.Wait()
	return len(ds), nil
}

// deliver makes one attempt at d and records it.
func (s *Scheduler) deliver(ctx context.Context, d report.Delivery) {
	at := s.Now()
	start := time.Now()
	status, err := s.send(ctx, d)
	if err != nil && ctx.Err() != nil {
		// Stopping cut the attempt short; the delivery is claimed again
		// when its lease ends, without losing an attempt.
		return
	}
	a := alert.Attempt{DeliveryID: d.ID, At: at, Duration: time.Since(start), Status: status}
	attempt := d.Attempts + 1
	notify.Settle(&a, err, attempt, s.Config.MaxAttempts, s.Config.Backoff, s.Now())
	log := s.Log.WithFields(logrus.Fields{
		"delivery_id": d.ID, "report_id": d.Report.ID, "workspace_id": d.WorkspaceID, "type": d.Type,
		"attempt": attempt, "status": status, "duration_ms": a.Duration.Milliseconds(),
	})
	// The attempt is recorded even when ctx ends now: the recipient has
	// answered.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Deliveries.Record(recordCtx, a); err != nil {
		log.WithError(err).Error("Recording a report delivery attempt failed; it goes out again when its lease ends.")
	}
	switch a.Result() {
	case alert.AttemptDelivered:
		log.Debug("Report delivered.")
	case alert.AttemptNotConfigured:
		log.Debug("Report email not sent: no SMTP server is configured; the delivery shows as not configured.")
	case alert.AttemptRetry:
		log.WithError(err).WithField("retry_at", a.RetryAt).Info("Report delivery failed; it will be retried.")
	default:
		log.WithError(err).Warn("Report delivery failed for good.")
	}
	if s.Metrics != nil {
		s.Metrics.Attempts.WithLabelValues(d.Type, a.Result()).Inc()
	}
}

// send sends d once, within half the delivery lease.
func (s *Scheduler) send(ctx context.Context, d report.Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Config.DeliveryLease/2)
	defer cancel()
	switch d.Type {
	case alert.ChannelWebhook:
		body, err := json.Marshal(WebhookPayload{Type: "report", WorkspaceID: d.WorkspaceID, Workspace: d.Workspace, Report: d.Report, Files: nonNil(d.Files)})
		if err != nil {
			return 0, notify.Permanent(fmt.Errorf("encode report %s: %w", d.Report.ID, err))
		}
		return s.Webhook.SendJSON(ctx, notify.Target{URL: d.URL, ID: d.ID, Secret: d.Secret}, body)
	case alert.ChannelEmail:
		m, err := s.mail(ctx, d)
		if err != nil {
			return 0, err
		}
		return s.Email.SendMail(ctx, m)
	}
	return 0, notify.Permanent(fmt.Errorf("no sender for report delivery type %q", d.Type))
}

func nonNil(files []domain.ArchiveObject) []domain.ArchiveObject {
	if files == nil {
		return []domain.ArchiveObject{}
	}
	return files
}

// mail is the email of d: what the report covers, and its files attached
// when they weigh MaxAttachmentBytes or less together, linked otherwise.
func (s *Scheduler) mail(ctx context.Context, d report.Delivery) (notify.Mail, error) {
	r := d.Report
	kept := report.Report{Type: r.Type, Name: r.Name, Period: r.Period}
	var size int64
	for _, f := range d.Files {
		size += f.Size
	}
	attach := size <= s.Config.MaxAttachmentBytes
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n", r.Name)
	for _, kv := range [][2]string{
		{"Workspace", d.Workspace},
		{"Period", report.PeriodText(r.Period) + " (" + r.Period.TimeZone + ")"},
		{"Actions", fmt.Sprint(r.Total)},
		{"Generated", r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")},
		{"Report id", r.ID},
	} {
		fmt.Fprintf(&text, "%-10s %s\n", kv[0]+":", kv[1])
	}
	m := notify.Mail{ID: d.ID, To: d.To, Subject: "[Fluxera] " + r.Name}
	switch {
	case len(d.Files) == 0:
	case attach:
		text.WriteString("\nThe report is attached")
		for _, f := range d.Files {
			body, err := s.read(ctx, d.WorkspaceID, f)
			if err != nil {
				return notify.Mail{}, err
			}
			m.Attachments = append(m.Attachments, notify.Attachment{
				Name: report.FileName(kept, extension(f.Name)), ContentType: f.ContentType, Body: body,
			})
		}
		text.WriteString(".\n")
	default:
		fmt.Fprintf(&text, "\nThe report's files weigh %d bytes, too much to attach; the workspace's owners can download them from its archive:\n", size)
		for _, f := range d.Files {
			fmt.Fprintf(&text, "  %s\n", s.link(f))
		}
	}
	text.WriteString("\nThis report was generated by Fluxera Activity on its schedule for your workspace.\n")
	m.Text = text.String()
	return m, nil
}

// read reads one archived file of a report; a failure may be retried.
func (s *Scheduler) read(ctx context.Context, workspaceID string, f domain.ArchiveObject) ([]byte, error) {
	rc, _, err := s.Archive.Open(ctx, workspaceID, f.Name)
	if err != nil {
		return nil, fmt.Errorf("open archived file %s: %w", f.Name, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, s.Config.MaxAttachmentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read archived file %s: %w", f.Name, err)
	}
	return body, nil
}

// link is where an archived file is downloaded.
func (s *Scheduler) link(f domain.ArchiveObject) string {
	route := "/api/v1/archive/" + f.Name
	if s.Config.PublicURL == "" {
		return route
	}
	return strings.TrimRight(s.Config.PublicURL, "/") + route
}

// extension is the extension of an archived file's name: pdf, csv, json.
func extension(name string) string {
	_, ext, _ := strings.Cut(path.Base(name), ".")
	return ext
}
