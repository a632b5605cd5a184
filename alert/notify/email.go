package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/fluxera/activity/alert"
)

// DefaultSMTPTimeout bounds one SMTP conversation, from dialling to QUIT.
const DefaultSMTPTimeout = 30 * time.Second

// ErrNoSMTP is the permanent failure of every email when no SMTP server
// is configured.
var ErrNoSMTP = errors.New("no SMTP server is configured")

// SMTPConfig is the SMTP server alert emails go through.
type SMTPConfig struct {
	// Addr is the server's host:port. Empty means no server: emails fail
	// permanently with ErrNoSMTP.
	Addr string
	// From is the sender, an address with an optional display name
	// ("Fluxera Alerts <alerts@example.com>").
	From string
	// Username and Password log in with AUTH PLAIN, which is only done
	// over TLS or to a loopback server. Both or neither.
	Username string
	Password string
	// HelloName is the name given in EHLO; "localhost" when empty.
	HelloName string
	// Timeout bounds one conversation; DefaultSMTPTimeout when zero.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS; when nil, the system roots and the
	// server name from Addr. Its ServerName defaults to Addr's host.
	TLSConfig *tls.Config
}

// Validate fills in defaults and checks the values. An empty Addr is
// valid: emails are then refused with ErrNoSMTP.
func (c *SMTPConfig) Validate() error {
	if c.Timeout == 0 {
		c.Timeout = DefaultSMTPTimeout
	}
	if c.Timeout < 0 {
		return fmt.Errorf("notify: smtp timeout must be positive")
	}
	if c.Addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("notify: smtp address %q is not host:port", c.Addr)
	}
	if strings.TrimSpace(c.From) == "" {
		return fmt.Errorf("notify: smtp from address is required")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("notify: smtp from address %q: %w", c.From, err)
	}
	if (c.Username == "") != (c.Password == "") {
		return fmt.Errorf("notify: smtp username and password go together")
	}
	for name, v := range map[string]string{"hello name": c.HelloName, "username": c.Username} {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("notify: smtp %s must be one line", name)
		}
	}
	return nil
}

// Email sends alerts through an SMTP server (ChannelEmail).
type Email struct {
	// Config must have been validated.
	Config SMTPConfig
	// Now dates the message; time.Now when nil.
	Now func() time.Time
}

// Send writes one message about d.Alert to every address in d.To. The
// conversation uses STARTTLS whenever the server offers it. It returns the
// server's last reply code. A 4xx reply or a network failure may be
// retried; a 5xx reply, bad recipients and a missing server are
// permanent. When the server refuses some recipients (5xx) but takes
// others, the message goes to those it took and Send returns a permanent
// error naming the refused ones.
func (e *Email) Send(ctx context.Context, d alert.Delivery) (int, error) {
	cfg := e.Config
	if cfg.Addr == "" {
		return 0, Permanent(ErrNoSMTP)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return 0, Permanent(fmt.Errorf("smtp from address %q: %w", cfg.From, err))
	}
	if len(d.To) == 0 {
		return 0, Permanent(errors.New("the delivery has no recipients"))
	}
	to := make([]*mail.Address, 0, len(d.To))
	for _, raw := range d.To {
		a, err := mail.ParseAddress(raw)
		if err != nil || strings.ContainsAny(raw, "\r\n") {
			return 0, Permanent(fmt.Errorf("recipient %q is not an email address", singleLine(raw)))
		}
		to = append(to, &mail.Address{Address: a.Address})
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	msg := message(from, to, d, now())

	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return 0, Permanent(fmt.Errorf("smtp address %q: %w", cfg.Addr, err))
	}
	deadline := time.Now().Add(cfg.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	dialer := net.Dialer{Deadline: deadline}
	conn, err := dialer.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return 0, fmt.Errorf("connect to smtp server: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	// A cancelled ctx cuts the conversation short at its next read or
	// write.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpFailure("greeting", err)
	}
	defer c.Close()
	hello := cfg.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return smtpFailure("hello", err)
	}
	secure := false
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSConfig != nil {
			tc = cfg.TLSConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		if err := c.StartTLS(tc); err != nil {
			return smtpFailure("starttls", err)
		}
		secure = true
	}
	if cfg.Username != "" {
		if !secure && !isLoopbackHost(host) {
			return 0, Permanent(errors.New("the smtp server does not offer STARTTLS; the password is sent only over TLS"))
		}
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, host)); err != nil {
			return smtpFailure("auth", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpFailure("mail from", err)
	}
	var refused []string
	lastRefusal := 0
	for _, a := range to {
		err := c.Rcpt(a.Address)
		var te *textproto.Error
		switch {
		case err == nil:
		case errors.As(err, &te) && te.Code >= 500:
			refused = append(refused, fmt.Sprintf("%s (%d %s)", a.Address, te.Code, singleLine(te.Msg)))
			lastRefusal = te.Code
		default:
			return smtpFailure("rcpt to "+a.Address, err)
		}
	}
	if len(refused) == len(to) {
		return lastRefusal, Permanent(fmt.Errorf("the smtp server refused every recipient: %s", strings.Join(refused, "; ")))
	}
	w, err := c.Data()
	if err != nil {
		return smtpFailure("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpFailure("write message", err)
	}
	if err := w.Close(); err != nil {
		return smtpFailure("end of message", err)
	}
	// The server has taken the message; a failed QUIT changes nothing.
	_ = c.Quit()
	if len(refused) > 0 {
		return lastRefusal, Permanent(fmt.Errorf("sent to %d of %d recipients; the smtp server refused %s", len(to)-len(refused), len(to), strings.Join(refused, "; ")))
	}
	return 250, nil
}

// smtpFailure classifies a failed SMTP step: a 5xx reply is permanent, a
// 4xx reply and anything else (the network, TLS) may be retried.
func smtpFailure(step string, err error) (int, error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		err = fmt.Errorf("%s: the smtp server answered %d %s", step, te.Code, singleLine(te.Msg))
		if te.Code >= 500 {
			return te.Code, Permanent(err)
		}
		return te.Code, err
	}
	return 0, fmt.Errorf("smtp %s: %w", step, err)
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// maxSubjectRunes keeps the subject header well under the 998-byte line
// limit, encoded.
const maxSubjectRunes = 200

// message returns the email for d: headers and a quoted-printable plain
// text body. Every value written into a header is one line, so that no
// part of an alert can add a header.
func message(from *mail.Address, to []*mail.Address, d alert.Delivery, now time.Time) []byte {
	a := d.Alert
	subject := truncate(singleLine("[Fluxera] "+a.Severity+": "+a.Summary), maxSubjectRunes)
	recipients := make([]string, len(to))
	for i, t := range to {
		recipients[i] = t.String()
	}
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name + ": " + singleLine(value) + "\r\n")
	}
	header("From", from.String())
	header("To", strings.Join(recipients, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID(d)+"@"+domainOf(from.Address)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(emailBody(a)))
	_ = qp.Close()
	return b.Bytes()
}

// emailBody is the text of an alert email.
func emailBody(a alert.Alert) string {
	var b strings.Builder
	b.WriteString(sentence(singleLine(a.Summary)) + "\n\n")
	for _, f := range alertFacts(a) {
		fmt.Fprintf(&b, "%-10s %s\n", f.label+":", f.value)
	}
	if details := detailFacts(a); len(details) > 0 {
		b.WriteString("\nDetails\n")
		for _, f := range details {
			fmt.Fprintf(&b, "  %s: %s\n", f.label, f.value)
		}
	}
	if len(a.EventIDs) > 0 {
		b.WriteString("\nEvent ids: " + singleLine(strings.Join(a.EventIDs, ", ")) + "\n")
	}
	b.WriteString("\nThis alert was raised by Fluxera Activity for your workspace.\n")
	return b.String()
}

// messageID is the local part of the Message-ID: the delivery id, which
// stays the same when a delivery is retried, so mail systems can drop a
// duplicate.
func messageID(d alert.Delivery) string {
	id := d.ID
	if id == "" {
		id = d.AlertID
	}
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, id)
	if id == "" {
		id = "alert"
	}
	return id
}

// domainOf returns the domain of an address, or "fluxera.invalid".
func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		return address[i+1:]
	}
	return "fluxera.invalid"
}
