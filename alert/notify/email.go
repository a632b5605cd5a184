package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/fluxera/activity/alert"
)

// DefaultSMTPTimeout bounds one SMTP conversation, from dialling to QUIT.
const DefaultSMTPTimeout = 30 * time.Second

// ErrNoSMTP is the permanent failure of every email when no SMTP server
// is configured.
var ErrNoSMTP = errors.New("no SMTP server is configured")

// How the connection to the SMTP server is encrypted (SMTPConfig.TLS).
const (
	// SMTPStartTLS requires STARTTLS: a server that does not offer it,
	// or whose certificate does not verify, is sent nothing.
	SMTPStartTLS = "starttls"
	// SMTPOpportunistic uses STARTTLS when the server offers it and
	// talks in clear when it does not: for a relay on the same host or
	// network.
	SMTPOpportunistic = "opportunistic"
	// SMTPImplicitTLS speaks TLS from the first byte (SMTPS, port 465).
	SMTPImplicitTLS = "implicit"
)

// smtpsPort is the port of implicit TLS.
const smtpsPort = "465"

// SMTPConfig is the SMTP server alert emails go through.
type SMTPConfig struct {
	// Addr is the server's host:port. Empty means no server: emails fail
	// permanently with ErrNoSMTP.
	Addr string
	// From is the sender, an address with an optional display name
	// ("Fluxera Alerts <alerts@example.com>").
	From string
	// TLS is how the connection is encrypted: SMTPStartTLS,
	// SMTPOpportunistic or SMTPImplicitTLS. Validate makes an empty one
	// SMTPImplicitTLS when Addr's port is 465 and SMTPStartTLS otherwise.
	TLS string
	// Username and Password log in with AUTH PLAIN, LOGIN or CRAM-MD5,
	// the first of these the server offers; PLAIN and LOGIN only over
	// TLS or to a loopback server. Both or neither.
	Username string
	Password string
	// HelloName is the name given in EHLO; "localhost" when empty.
	HelloName string
	// Timeout bounds one conversation; DefaultSMTPTimeout when zero.
	Timeout time.Duration
	// TLSConfig verifies the server's certificate; when nil, the system
	// roots (which SSL_CERT_FILE and SSL_CERT_DIR can name). Its
	// ServerName defaults to Addr's host.
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
	switch c.TLS {
	case "", SMTPStartTLS, SMTPOpportunistic, SMTPImplicitTLS:
	default:
		return fmt.Errorf("notify: smtp tls %q is not %s, %s or %s", c.TLS, SMTPStartTLS, SMTPOpportunistic, SMTPImplicitTLS)
	}
	if c.Addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || host == "" || n < 1 || n > 65535 {
		return fmt.Errorf("notify: smtp address %q is not host:port", c.Addr)
	}
	if c.TLS == "" {
		c.TLS = defaultSMTPTLS(port)
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

// defaultSMTPTLS is the TLS mode of a server on port.
func defaultSMTPTLS(port string) string {
	if port == smtpsPort {
		return SMTPImplicitTLS
	}
	return SMTPStartTLS
}

// Email sends alerts through an SMTP server (ChannelEmail).
type Email struct {
	// Config must have been validated.
	Config SMTPConfig
	// Now dates the message; time.Now when nil.
	Now func() time.Time
}

// Send writes one message about d.Alert to every address in d.To,
// encrypted as Config.TLS says. It returns the server's last reply code.
// A 4xx reply, a network or TLS failure and a server without the
// STARTTLS that is required may be retried; a 5xx reply, bad recipients,
// a password that would go in clear and a missing server are permanent.
// When the server refuses some recipients (5xx) but takes others, the
// message goes to those it took and Send returns a permanent error
// naming the refused ones.
func (e *Email) Send(ctx context.Context, d alert.Delivery) (int, error) {
	from, to, err := e.addresses(d.To)
	if err != nil {
		return 0, err
	}
	return e.deliver(ctx, from, to, message(from, to, d, e.now()))
}

// Mail is an email other than an alert's, such as a generated report sent
// to its recipients: a plain text body and files attached.
type Mail struct {
	// ID names the message (its Message-ID), the same on every retry.
	ID      string
	To      []string
	Subject string
	Text    string
	// Attachments are attached in order.
	Attachments []Attachment
}

// Attachment is a file attached to a Mail.
type Attachment struct {
	Name        string
	ContentType string
	Body        []byte
}

// SendMail writes m to every address in m.To through the SMTP server, as
// Send writes an alert, and classifies failures as Send does.
func (e *Email) SendMail(ctx context.Context, m Mail) (int, error) {
	from, to, err := e.addresses(m.To)
	if err != nil {
		return 0, err
	}
	msg, err := mailMessage(from, to, m, e.now())
	if err != nil {
		return 0, Permanent(fmt.Errorf("compose email %s: %w", singleLine(m.ID), err))
	}
	return e.deliver(ctx, from, to, msg)
}

func (e *Email) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// addresses checks that a server is configured and reads the sender and
// the recipients; every failure is permanent.
func (e *Email) addresses(raw []string) (*mail.Address, []*mail.Address, error) {
	cfg := e.Config
	if cfg.Addr == "" {
		return nil, nil, Permanent(ErrNoSMTP)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, nil, Permanent(fmt.Errorf("smtp from address %q: %w", cfg.From, err))
	}
	if len(raw) == 0 {
		return nil, nil, Permanent(errors.New("the delivery has no recipients"))
	}
	to := make([]*mail.Address, 0, len(raw))
	for _, r := range raw {
		a, err := mail.ParseAddress(r)
		if err != nil || strings.ContainsAny(r, "\r\n") {
			return nil, nil, Permanent(fmt.Errorf("recipient %q is not an email address", singleLine(r)))
		}
		to = append(to, &mail.Address{Address: a.Address})
	}
	return from, to, nil
}

// deliver sends msg from from to every address in to, encrypted as
// Config.TLS says, and returns the server's last reply code.
func (e *Email) deliver(ctx context.Context, from *mail.Address, to []*mail.Address, msg []byte) (int, error) {
	cfg := e.Config
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return 0, Permanent(fmt.Errorf("smtp address %q: %w", cfg.Addr, err))
	}
	mode := cfg.TLS
	if mode == "" {
		mode = defaultSMTPTLS(port)
	}
	deadline := time.Now().Add(cfg.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conv := &conversation{deadline: deadline}
	defer conv.close()
	// A cancelled ctx cuts the conversation short at its next read or
	// write.
	stop := context.AfterFunc(ctx, conv.cancel)
	defer stop()

	opts, err := clientOptions(cfg, host, port, mode, conv)
	if err != nil {
		return 0, Permanent(fmt.Errorf("smtp client: %w", err))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return 0, Permanent(fmt.Errorf("smtp client: %w", err))
	}
	c, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return connectFailure(mode, err)
	}
	// go-mail's SMTP client sends the paths as given: "<address>".
	if err := c.Mail((&mail.Address{Address: from.Address}).String()); err != nil {
		return smtpFailure("mail from", err)
	}
	var refused []string
	lastRefusal := 0
	for _, a := range to {
		err := c.Rcpt(a.String())
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

// clientOptions configures go-mail's client for one conversation: the
// TLS mode, the certificate check, the login and a dialler bound to conv.
// The client opens the connection, says EHLO, starts TLS and logs in;
// Send then names the sender and each recipient itself, so that a
// refused recipient does not cost the others their message.
func clientOptions(cfg SMTPConfig, host, port, mode string, conv *conversation) ([]gomail.Option, error) {
	n, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("smtp port %q: %w", port, err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	hello := cfg.HelloName
	if hello == "" {
		hello = "localhost"
	}
	opts := []gomail.Option{
		gomail.WithPort(n),
		gomail.WithHELO(hello),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tc),
		gomail.WithDialContextFunc(conv.dialer(mode == SMTPImplicitTLS, tc)),
	}
	switch mode {
	case SMTPImplicitTLS:
		// The dialler speaks TLS; the client must not ask for STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case SMTPOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		return nil, fmt.Errorf("smtp tls %q is not %s, %s or %s", mode, SMTPStartTLS, SMTPOpportunistic, SMTPImplicitTLS)
	}
	if cfg.Username != "" {
		// PLAIN and LOGIN send the password itself: go-mail refuses them
		// without TLS unless the host is loopback, which the -NOENC forms
		// allow here as the platform always has.
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthCramMD5}
		if isLoopbackHost(host) {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc, gomail.SMTPAuthCramMD5}
		}
		opts = append(opts,
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
			gomail.WithOpportunisticSMTPAuth(mechs...))
	}
	return opts, nil
}

// conversation is the connection of one SMTP conversation. Every
// deadline set on it is cut to the conversation's own, and a cancelled
// context cuts it short, so that no server can hold a delivery longer
// than the timeout.
type conversation struct {
	deadline time.Time

	mu        sync.Mutex
	conn      net.Conn // the TCP connection, once dialled
	cancelled bool
}

// dialer returns the dial function go-mail connects with: TCP, bounded by
// the conversation, and TLS at once when implicit.
func (cv *conversation) dialer(implicit bool, tc *tls.Config) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Deadline: cv.deadline}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cv.mu.Lock()
		cv.conn = raw
		cv.mu.Unlock()
		conn := &boundedConn{Conn: raw, cv: cv}
		if err := conn.SetDeadline(time.Time{}); err != nil {
			return nil, err
		}
		if !implicit {
			return conn, nil
		}
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tlsConn, nil
	}
}

// limit returns the deadline to set for t. The caller holds cv.mu.
func (cv *conversation) limit(t time.Time) time.Time {
	if cv.cancelled {
		return time.Unix(1, 0)
	}
	if t.IsZero() || t.After(cv.deadline) {
		return cv.deadline
	}
	return t
}

// cancel makes the connection's next read or write fail.
func (cv *conversation) cancel() {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	cv.cancelled = true
	if cv.conn != nil {
		_ = cv.conn.SetDeadline(time.Unix(1, 0))
	}
}

// close closes the connection, which go-mail leaves open when the
// conversation fails before the client is handed back.
func (cv *conversation) close() {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if cv.conn != nil {
		_ = cv.conn.Close()
	}
}

// boundedConn is a connection whose deadlines its conversation bounds.
type boundedConn struct {
	net.Conn
	cv *conversation
}

func (c *boundedConn) SetDeadline(t time.Time) error {
	c.cv.mu.Lock()
	defer c.cv.mu.Unlock()
	return c.Conn.SetDeadline(c.cv.limit(t))
}

func (c *boundedConn) SetReadDeadline(t time.Time) error {
	c.cv.mu.Lock()
	defer c.cv.mu.Unlock()
	return c.Conn.SetReadDeadline(c.cv.limit(t))
}

func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	c.cv.mu.Lock()
	defer c.cv.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.cv.limit(t))
}

// connectFailure classifies a failure before the first MAIL command: in
// the greeting, EHLO, TLS or AUTH. A 5xx reply and a password that would
// go in clear are permanent; anything else, a server without the
// required STARTTLS included, may be retried.
func connectFailure(mode string, err error) (int, error) {
	step := "connect to smtp server with " + map[string]string{
		SMTPStartTLS:      "starttls required",
		SMTPOpportunistic: "opportunistic starttls",
		SMTPImplicitTLS:   "implicit tls",
	}[mode]
	if errors.Is(err, smtp.ErrUnencrypted) {
		return 0, Permanent(fmt.Errorf("%s: the smtp server offers no TLS, and the password is sent only over TLS or to a loopback server", step))
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return smtpFailure(step, err)
	}
	return 0, fmt.Errorf("%s: %w", step, err)
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
	header("Message-ID", "<"+messageID(cmp.Or(d.ID, d.AlertID))+"@"+domainOf(from.Address)+">")
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
// duplicate; only letters, digits, dashes and dots are kept of it.
func messageID(id string) string {
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

// mailMessage composes m with go-mail: the headers as message writes an
// alert's, a plain text body, and each attachment as a part of its own.
// Every value written into a header is one line.
func mailMessage(from *mail.Address, to []*mail.Address, m Mail, now time.Time) ([]byte, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(from)
	msg.ToMailAddress(to...)
	msg.Subject(truncate(singleLine(m.Subject), maxSubjectRunes))
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(messageID(m.ID) + "@" + domainOf(from.Address))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	for _, a := range m.Attachments {
		opts := []gomail.FileOption{}
		if a.ContentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(singleLine(a.ContentType))))
		}
		if err := msg.AttachReader(singleLine(a.Name), bytes.NewReader(a.Body), opts...); err != nil {
			return nil, fmt.Errorf("attach %s: %w", singleLine(a.Name), err)
		}
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
