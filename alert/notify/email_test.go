package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/fluxera/activity/alert"
)

// smtpServer is a small SMTP server on 127.0.0.1 that records what it is
// sent and answers as it is told.
type smtpServer struct {
	t  *testing.T
	ln net.Listener
	// tls, when set, is offered through STARTTLS; implicit, when set,
	// is spoken from the first byte.
	tls      *tls.Config
	implicit *tls.Config
	// auth lists the AUTH mechanisms advertised (PLAIN, LOGIN,
	// CRAM-MD5), space-separated; password is the one CRAM-MD5 checks.
	auth     string
	password string
	// Replies to MAIL, RCPT (by address) and the end of DATA; "250 OK"
	// when empty.
	mailReply string
	rcptReply map[string]string
	dataReply string

	mu       sync.Mutex
	sessions []*smtpSession
	wg       sync.WaitGroup
}

// smtpSession is what one connection sent.
type smtpSession struct {
	hello    string
	tls      bool
	authTLS  bool
	mech     string
	auth     string
	from     string
	to       []string
	data     string
	commands []string
	// end is why the server stopped reading: io.EOF when the client
	// closed the connection.
	end error
}

// newSMTPServer starts a server after setup, which sets what it reads as
// soon as a client connects.
func newSMTPServer(t *testing.T, setup ...func(*smtpServer)) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln}
	for _, f := range setup {
		f(s)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) addr() string { return s.ln.Addr().String() }

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	sess := &smtpSession{}
	if s.implicit != nil {
		tc := tls.Server(conn, s.implicit)
		if err := tc.Handshake(); err != nil {
			return
		}
		conn = tc
		sess.tls = true
	}
	s.mu.Lock()
	s.sessions = append(s.sessions, sess)
	s.mu.Unlock()
	record := func(f func()) {
		s.mu.Lock()
		defer s.mu.Unlock()
		f()
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			_ = tp.PrintfLine("%s", l)
		}
	}
	or := func(custom, standard string) string {
		if custom != "" {
			return custom
		}
		return standard
	}
	reply("220 smtp.test ESMTP ready")
	secure := sess.tls
	readLine := func() (string, error) {
		line, err := tp.ReadLine()
		if err != nil {
			record(func() { sess.end = err })
		}
		return line, err
	}
	for {
		line, err := readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		record(func() { sess.commands = append(sess.commands, verb) })
		switch verb {
		case "EHLO":
			record(func() { sess.hello = arg })
			ext := []string{"250-smtp.test", "250-8BITMIME"}
			if s.tls != nil && !secure {
				ext = append(ext, "250-STARTTLS")
			}
			if s.auth != "" {
				ext = append(ext, "250-AUTH "+s.auth)
			}
			reply(append(ext, "250 SIZE 10240000")...)
		case "HELO":
			record(func() { sess.hello = arg })
			reply("250 smtp.test")
		case "STARTTLS":
			if s.tls == nil || secure {
				reply("502 5.5.1 not offered")
				continue
			}
			reply("220 2.0.0 ready to start TLS")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			secure = true
			record(func() { sess.tls = true })
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !slices.Contains(strings.Fields(s.auth), mech) {
				reply("504 5.5.4 unrecognised authentication type")
				continue
			}
			// challenge sends a base64 challenge and returns the decoded
			// answer.
			challenge := func(c string) (string, bool) {
				reply("334 " + base64.StdEncoding.EncodeToString([]byte(c)))
				line, err := readLine()
				if err != nil {
					return "", false
				}
				b, err := base64.StdEncoding.DecodeString(line)
				return string(b), err == nil
			}
			var credentials string
			switch mech {
			case "PLAIN":
				b, err := base64.StdEncoding.DecodeString(resp)
				if err != nil {
					reply("501 5.5.2 bad base64")
					continue
				}
				credentials = string(b)
			case "LOGIN":
				user, ok1 := challenge("Username:")
				pass, ok2 := challenge("Password:")
				if !ok1 || !ok2 {
					return
				}
				credentials = user + "\x00" + pass
			case "CRAM-MD5":
				const nonce = "<1896.697170952@smtp.test>"
				answer, ok := challenge(nonce)
				user, digest, _ := strings.Cut(answer, " ")
				h := hmac.New(md5.New, []byte(s.password))
				h.Write([]byte(nonce))
				if !ok || digest != hex.EncodeToString(h.Sum(nil)) {
					reply("535 5.7.8 authentication failed")
					continue
				}
				credentials = user
			}
			record(func() { sess.mech, sess.auth, sess.authTLS = mech, credentials, secure })
			reply("235 2.7.0 authentication successful")
		case "MAIL":
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:<"), ">")
			record(func() { sess.from = from })
			reply(or(s.mailReply, "250 2.1.0 OK"))
		case "RCPT":
			to, _, _ := strings.Cut(strings.TrimPrefix(arg, "TO:<"), ">")
			r := or(s.rcptReply[to], "250 2.1.5 OK")
			if strings.HasPrefix(r, "250") {
				record(func() { sess.to = append(sess.to, to) })
			}
			reply(r)
		case "DATA":
			reply("354 end data with <CR><LF>.<CR><LF>")
			// Read the lines as sent, so that bare line feeds show.
			var data strings.Builder
			for {
				l, err := tp.R.ReadString('\n')
				if err != nil {
					record(func() { sess.end = err })
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			r := or(s.dataReply, "250 2.0.0 queued")
			if strings.HasPrefix(r, "250") {
				record(func() { sess.data = data.String() })
			}
			reply(r)
		case "RSET", "NOOP":
			reply("250 2.0.0 OK")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not recognised")
		}
	}
}

// session returns the only session, failing the test when there is not
// exactly one.
func (s *smtpServer) session() *smtpSession {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) != 1 {
		s.t.Fatalf("%d SMTP sessions, want 1", len(s.sessions))
	}
	c := *s.sessions[0]
	return &c
}

// MustTLS returns a server config with a certificate for 127.0.0.1 and a
// client config that trusts it.
func MustTLS(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

func emailDelivery(to ...string) alert.Delivery {
	d := testDelivery(alert.ChannelEmail, "")
	d.To = to
	return d
}

// newEmail returns an email sender for the test server at addr, which
// stands for a local relay: STARTTLS when offered, in clear otherwise.
func newEmail(addr string) *Email {
	cfg := SMTPConfig{Addr: addr, From: "Fluxera Alerts <alerts@fluxera.example>", HelloName: "notify.fluxera.example", TLS: SMTPOpportunistic}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Email{Config: cfg, Now: func() time.Time { return testNow }}
}

// readMessage parses a sent message and decodes its body.
func readMessage(t *testing.T, data string) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return msg, strings.ReplaceAll(string(body), "\r\n", "\n")
}

func TestEmailMessage(t *testing.T) {
	srv := newSMTPServer(t)
	e := newEmail(srv.addr())
	status, err := e.Send(context.Background(), emailDelivery("ana@example.com", "Owner@Example.com"))
	if err != nil || status != 250 {
		t.Fatalf("Send = %d, %v", status, err)
	}
	s := srv.session()
	if s.hello != "notify.fluxera.example" || s.from != "alerts@fluxera.example" {
		t.Errorf("hello %q, from %q", s.hello, s.from)
	}
	if strings.Join(s.to, ",") != "ana@example.com,Owner@Example.com" {
		t.Errorf("rcpt %v", s.to)
	}
	if got := strings.Join(s.commands, " "); got != "EHLO MAIL RCPT RCPT DATA QUIT" {
		t.Errorf("commands %s", got)
	}
	if s.auth != "" {
		t.Error("authenticated without credentials")
	}
	msg, body := readMessage(t, s.data)
	for name, want := range map[string]string{
		"From":                      `"Fluxera Alerts" <alerts@fluxera.example>`,
		"To":                        "<ana@example.com>, <Owner@Example.com>",
		"Subject":                   "[Fluxera] high: 3 failed sign-ins for ana@example.com within 10 minutes",
		"Date":                      "Sun, 01 Mar 2026 09:15:00 +0000",
		"Message-Id":                "<d-1@fluxera.example>",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if len(msg.Header) != 9 {
		t.Errorf("headers %v", msg.Header)
	}
	for _, want := range []string{
		"3 failed sign-ins for ana@example.com within 10 minutes.\n",
		"Severity:  high\n",
		"Detector:  failed_logins\n",
		"Subject:   user ana@example.com\n",
		"Events:    3 within 10m0s\n",
		"Alert id:  7d1f0c3e-5b52-5d61-9a4f-0b8e2f6a1c11\n",
		"  country: NL\n  ip: 203.0.113.9\n",
		"Event ids: e1, e2, e3\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if !strings.HasSuffix(s.data, "\r\n") || strings.Contains(strings.ReplaceAll(s.data, "\r\n", ""), "\n") {
		t.Error("the message has bare line feeds")
	}
}

func TestEmailHeaderInjection(t *testing.T) {
	srv := newSMTPServer(t)
	d := emailDelivery("ana@example.com")
	d.Alert.Summary = "Export by mallory\r\nBcc: victim@evil.example\r\n\r\nFake body"
	d.Alert.Severity = "high\nX-Injected: 1"
	d.ID = "d-1>\r\nX-Injected: 2"
	if _, err := newEmail(srv.addr()).Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	msg, body := readMessage(t, srv.session().data)
	for _, name := range []string{"Bcc", "X-Injected"} {
		if _, ok := msg.Header[name]; ok {
			t.Errorf("header %s was injected: %v", name, msg.Header)
		}
	}
	if got := msg.Header.Get("Subject"); got != "[Fluxera] high X-Injected: 1: Export by mallory Bcc: victim@evil.example Fake body" {
		t.Errorf("Subject = %q", got)
	}
	if got := msg.Header.Get("Message-Id"); got != "<d-1X-Injected2@fluxera.example>" {
		t.Errorf("Message-Id = %q", got)
	}
	if !strings.HasPrefix(body, "Export by mallory Bcc: victim@evil.example Fake body.\n") {
		t.Errorf("body starts %q", body[:60])
	}
}

func TestEmailSubjectEncoded(t *testing.T) {
	srv := newSMTPServer(t)
	d := emailDelivery("ana@example.com")
	d.Alert.Summary = "Ungewöhnliche Anmeldung aus Zürich für José"
	if _, err := newEmail(srv.addr()).Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	msg, body := readMessage(t, srv.session().data)
	raw := msg.Header.Get("Subject")
	if strings.ContainsFunc(raw, func(r rune) bool { return r > 127 }) {
		t.Errorf("raw Subject is not ASCII: %q", raw)
	}
	got, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil || got != "[Fluxera] high: "+d.Alert.Summary {
		t.Errorf("Subject decodes to %q, %v", got, err)
	}
	if !strings.Contains(body, d.Alert.Summary) {
		t.Errorf("body lacks the summary:\n%s", body)
	}
}

func TestEmailSTARTTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := MustTLS(t)
	srv := newSMTPServer(t)
	srv.tls, srv.auth = serverTLS, "PLAIN"
	e := newEmail(srv.addr())
	e.Config.TLS = SMTPStartTLS
	e.Config.Username, e.Config.Password = "alerts", "s3cret"
	e.Config.TLSConfig = clientTLS
	if _, err := e.Send(context.Background(), emailDelivery("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	s := srv.session()
	if !s.tls || !s.authTLS || s.auth != "\x00alerts\x00s3cret" {
		t.Fatalf("tls %v, auth %q over tls %v", s.tls, s.auth, s.authTLS)
	}
	if got := strings.Join(s.commands, " "); got != "EHLO STARTTLS EHLO AUTH MAIL RCPT DATA QUIT" {
		t.Errorf("commands %s", got)
	}
}

func TestEmailSTARTTLSUntrusted(t *testing.T) {
	serverTLS, _ := MustTLS(t)
	srv := newSMTPServer(t)
	srv.tls = serverTLS
	e := newEmail(srv.addr())
	e.Config.TLS = SMTPStartTLS
	e.Config.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	_, err := e.Send(context.Background(), emailDelivery("ana@example.com"))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "starttls") {
		t.Fatalf("Send = %v, want a retryable STARTTLS failure", err)
	}
	if srv.session().data != "" {
		t.Fatal("the message was sent")
	}
}

func TestEmailAuthWithoutTLSOnLoopback(t *testing.T) {
	srv := newSMTPServer(t)
	srv.auth = "PLAIN"
	e := newEmail(srv.addr())
	e.Config.Username, e.Config.Password = "alerts", "s3cret"
	if _, err := e.Send(context.Background(), emailDelivery("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	if s := srv.session(); s.tls || s.auth != "\x00alerts\x00s3cret" {
		t.Fatalf("tls %v, auth %q", s.tls, s.auth)
	}
}

func TestEmailSTARTTLSRequiredByDefault(t *testing.T) {
	srv := newSMTPServer(t) // offers no STARTTLS
	cfg := SMTPConfig{Addr: srv.addr(), From: "alerts@fluxera.example"}
	if err := cfg.Validate(); err != nil || cfg.TLS != SMTPStartTLS {
		t.Fatalf("Validate = %v, TLS %q; want the default %q", err, cfg.TLS, SMTPStartTLS)
	}
	e := &Email{Config: cfg}
	_, err := e.Send(context.Background(), emailDelivery("ana@example.com"))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a retryable failure naming STARTTLS", err)
	}
	s := srv.session()
	if s.data != "" || slices.Contains(s.commands, "MAIL") {
		t.Fatalf("the server was sent %v", s.commands)
	}
	mustClosed(t, srv)
}

func TestEmailOpportunisticSendsInClear(t *testing.T) {
	srv := newSMTPServer(t) // offers no STARTTLS
	e := newEmail(srv.addr())
	if e.Config.TLS != SMTPOpportunistic {
		t.Fatalf("TLS = %q", e.Config.TLS)
	}
	if _, err := e.Send(context.Background(), emailDelivery("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	if s := srv.session(); s.tls || s.data == "" {
		t.Fatalf("tls %v, message sent %v", s.tls, s.data != "")
	}
}

func TestEmailOpportunisticUsesSTARTTLSWhenOffered(t *testing.T) {
	serverTLS, clientTLS := MustTLS(t)
	srv := newSMTPServer(t)
	srv.tls = serverTLS
	e := newEmail(srv.addr())
	e.Config.TLSConfig = clientTLS
	if _, err := e.Send(context.Background(), emailDelivery("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	if s := srv.session(); !s.tls || s.data == "" {
		t.Fatalf("tls %v, message sent %v", s.tls, s.data != "")
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := MustTLS(t)
	tests := []struct {
		name    string
		trusted *tls.Config
		ok      bool
	}{
		{name: "trusted", trusted: clientTLS, ok: true},
		{name: "untrusted", trusted: &tls.Config{RootCAs: x509.NewCertPool()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSMTPServer(t, func(s *smtpServer) { s.implicit, s.auth = serverTLS, "PLAIN" })
			e := newEmail(srv.addr())
			e.Config.TLS = SMTPImplicitTLS
			e.Config.TLSConfig = tt.trusted
			e.Config.Username, e.Config.Password = "alerts", "s3cret"
			_, err := e.Send(context.Background(), emailDelivery("ana@example.com"))
			if !tt.ok {
				if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "implicit tls") {
					t.Fatalf("Send = %v, want a retryable TLS failure", err)
				}
				srv.mu.Lock()
				defer srv.mu.Unlock()
				for _, s := range srv.sessions {
					if len(s.commands) > 0 {
						t.Fatalf("the server was sent %v", s.commands)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := srv.session()
			if !s.tls || !s.authTLS || s.auth != "\x00alerts\x00s3cret" || s.data == "" {
				t.Fatalf("tls %v, auth %q over tls %v, message sent %v", s.tls, s.auth, s.authTLS, s.data != "")
			}
			if got := strings.Join(s.commands, " "); got != "EHLO AUTH MAIL RCPT DATA QUIT" {
				t.Errorf("commands %s", got)
			}
		})
	}
}

func TestEmailAuthMechanisms(t *testing.T) {
	serverTLS, clientTLS := MustTLS(t)
	tests := []struct {
		offered string
		mech    string
		auth    string
	}{
		{offered: "PLAIN", mech: "PLAIN", auth: "\x00alerts\x00s3cret"},
		{offered: "LOGIN", mech: "LOGIN", auth: "alerts\x00s3cret"},
		{offered: "CRAM-MD5", mech: "CRAM-MD5", auth: "alerts"},
		{offered: "LOGIN PLAIN", mech: "PLAIN", auth: "\x00alerts\x00s3cret"},
		{offered: "CRAM-MD5 LOGIN", mech: "LOGIN", auth: "alerts\x00s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.offered, func(t *testing.T) {
			srv := newSMTPServer(t)
			srv.tls, srv.auth, srv.password = serverTLS, tt.offered, "s3cret"
			e := newEmail(srv.addr())
			e.Config.TLS, e.Config.TLSConfig = SMTPStartTLS, clientTLS
			e.Config.Username, e.Config.Password = "alerts", "s3cret"
			if _, err := e.Send(context.Background(), emailDelivery("ana@example.com")); err != nil {
				t.Fatal(err)
			}
			s := srv.session()
			if s.mech != tt.mech || s.auth != tt.auth || !s.authTLS || s.data == "" {
				t.Fatalf("AUTH %s %q over tls %v, message sent %v; want %s %q", s.mech, s.auth, s.authTLS, s.data != "", tt.mech, tt.auth)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		srv := newSMTPServer(t)
		srv.auth, srv.password = "CRAM-MD5", "other"
		e := newEmail(srv.addr())
		e.Config.Username, e.Config.Password = "alerts", "s3cret"
		status, err := e.Send(context.Background(), emailDelivery("ana@example.com"))
		if status != 535 || !IsPermanent(err) || !strings.Contains(err.Error(), "535") {
			t.Fatalf("Send = %d, %v; want a permanent 535", status, err)
		}
		if srv.session().data != "" {
			t.Fatal("the message was sent")
		}
	})
}

func TestEmailPasswordNeverInClear(t *testing.T) {
	// go-mail refuses PLAIN and LOGIN without TLS to a host other than
	// loopback, before anything is sent; the refusal is permanent.
	_, err := connectFailure(SMTPOpportunistic, fmt.Errorf("SMTP AUTH failed: %w", smtp.ErrUnencrypted))
	if !IsPermanent(err) || !strings.Contains(err.Error(), "only over TLS") {
		t.Fatalf("connectFailure = %v, want a permanent refusal", err)
	}
}

func TestEmailCancelledMidConversation(t *testing.T) {
	// A server that greets and then says nothing: without the
	// conversation's bound, Send would wait for it for ever.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	greeted := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("220 smtp.test ESMTP ready\r\n"))
		close(greeted)
		_, _ = io.Copy(io.Discard, conn)
	}()
	e := newEmail(ln.Addr().String())
	e.Config.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Send(ctx, emailDelivery("ana@example.com"))
		done <- err
	}()
	<-greeted
	cancel()
	if err := <-done; err == nil || IsPermanent(err) {
		t.Fatalf("Send = %v, want a retryable failure", err)
	}
}

// mustClosed fails the test unless the client closed its connection to
// srv, rather than leaving it to the server's deadline.
func mustClosed(t *testing.T, srv *smtpServer) {
	t.Helper()
	srv.ln.Close()
	srv.wg.Wait()
	if s := srv.session(); !errors.Is(s.end, io.EOF) {
		t.Fatalf("the connection ended with %v, want the client closing it", s.end)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.0.0.2": true, "::1": true, "::ffff:127.0.0.1": true,
		"smtp.example.com": false, "10.0.0.1": false, "192.0.2.1": false, "": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v", host, got)
		}
	}
}

func TestEmailReplies(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*smtpServer)
		to        []string
		status    int
		delivered bool
		permanent bool
		sent      bool
		contains  string
	}{
		{name: "accepted", to: []string{"a@example.com"}, status: 250, delivered: true, sent: true},
		{name: "451 at end of data", setup: func(s *smtpServer) { s.dataReply = "451 4.3.0 try again later" },
			to: []string{"a@example.com"}, status: 451, contains: "451 4.3.0 try again later"},
		{name: "554 at end of data", setup: func(s *smtpServer) { s.dataReply = "554 5.7.1 rejected as spam" },
			to: []string{"a@example.com"}, status: 554, permanent: true, contains: "rejected as spam"},
		{name: "451 to mail from", setup: func(s *smtpServer) { s.mailReply = "451 4.7.1 greylisted" },
			to: []string{"a@example.com"}, status: 451},
		{name: "550 to mail from", setup: func(s *smtpServer) { s.mailReply = "550 5.7.1 sender refused" },
			to: []string{"a@example.com"}, status: 550, permanent: true},
		{name: "550 to the only recipient", setup: func(s *smtpServer) {
			s.rcptReply = map[string]string{"a@example.com": "550 5.1.1 no such user"}
		}, to: []string{"a@example.com"}, status: 550, permanent: true, contains: "a@example.com (550 5.1.1 no such user)"},
		{name: "452 to a recipient", setup: func(s *smtpServer) {
			s.rcptReply = map[string]string{"b@example.com": "452 4.2.2 mailbox full"}
		}, to: []string{"a@example.com", "b@example.com"}, status: 452, contains: "mailbox full"},
		{name: "550 to one of two recipients", setup: func(s *smtpServer) {
			s.rcptReply = map[string]string{"b@example.com": "550 5.1.1 no such user"}
		}, to: []string{"a@example.com", "b@example.com"}, status: 550, permanent: true, sent: true, contains: "sent to 1 of 2 recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSMTPServer(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			status, err := newEmail(srv.addr()).Send(context.Background(), emailDelivery(tt.to...))
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if (err == nil) != tt.delivered || IsPermanent(err) != tt.permanent {
				t.Fatalf("Send error %v: want delivered %v, permanent %v", err, tt.delivered, tt.permanent)
			}
			if err != nil && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q lacks %q", err, tt.contains)
			}
			s := srv.session()
			if (s.data != "") != tt.sent {
				t.Errorf("message sent %v, want %v", s.data != "", tt.sent)
			}
			if tt.sent && tt.permanent && strings.Join(s.to, ",") != "a@example.com" {
				t.Errorf("sent to %v", s.to)
			}
		})
	}
}

func TestEmailFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name      string
		e         *Email
		d         alert.Delivery
		permanent bool
		is        error
		contains  string
	}{
		{name: "no smtp server", e: &Email{}, d: emailDelivery("a@example.com"), permanent: true, is: ErrNoSMTP},
		{name: "no recipients", e: newEmail(closed), d: emailDelivery(), permanent: true, contains: "no recipients"},
		{name: "recipient with a line break", e: newEmail(closed), d: emailDelivery("a@example.com\r\nBcc: b@example.com"), permanent: true, contains: "not an email address"},
		{name: "connection refused", e: newEmail(closed), d: emailDelivery("a@example.com"), contains: "connect to smtp server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.e.Send(context.Background(), tt.d)
			if err == nil || IsPermanent(err) != tt.permanent {
				t.Fatalf("Send = %v, want permanent %v", err, tt.permanent)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Send = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q lacks %q", err, tt.contains)
			}
		})
	}
	if ErrNoSMTP.Error() != "no SMTP server is configured" {
		t.Errorf("ErrNoSMTP = %q", ErrNoSMTP)
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  SMTPConfig
		ok   bool
		tls  string
	}{
		{name: "not configured", cfg: SMTPConfig{}, ok: true},
		{name: "minimal", cfg: SMTPConfig{Addr: "smtp.example.com:587", From: "alerts@example.com"}, ok: true, tls: SMTPStartTLS},
		{name: "port 25 needs STARTTLS", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "alerts@example.com"}, ok: true, tls: SMTPStartTLS},
		{name: "port 465 is implicit TLS", cfg: SMTPConfig{Addr: "smtp.example.com:465", From: "alerts@example.com"}, ok: true, tls: SMTPImplicitTLS},
		{name: "implicit on another port", cfg: SMTPConfig{Addr: "smtp.example.com:2465", From: "alerts@example.com", TLS: SMTPImplicitTLS}, ok: true, tls: SMTPImplicitTLS},
		{name: "opportunistic", cfg: SMTPConfig{Addr: "127.0.0.1:25", From: "alerts@example.com", TLS: SMTPOpportunistic}, ok: true, tls: SMTPOpportunistic},
		{name: "STARTTLS on port 465 when asked", cfg: SMTPConfig{Addr: "smtp.example.com:465", From: "alerts@example.com", TLS: SMTPStartTLS}, ok: true, tls: SMTPStartTLS},
		{name: "unknown tls", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "alerts@example.com", TLS: "none"}},
		{name: "port not a number", cfg: SMTPConfig{Addr: "smtp.example.com:smtp", From: "a@example.com"}},
		{name: "display name", cfg: SMTPConfig{Addr: "smtp.example.com:587", From: "Fluxera <alerts@example.com>"}, ok: true, tls: SMTPStartTLS},
		{name: "credentials", cfg: SMTPConfig{Addr: "[::1]:25", From: "a@example.com", Username: "u", Password: "p"}, ok: true, tls: SMTPStartTLS},
		{name: "no port", cfg: SMTPConfig{Addr: "smtp.example.com", From: "a@example.com"}},
		{name: "no from", cfg: SMTPConfig{Addr: "smtp.example.com:25"}},
		{name: "bad from", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "not an address"}},
		{name: "username only", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "a@example.com", Username: "u"}},
		{name: "hello with a line break", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "a@example.com", HelloName: "x\r\nMAIL FROM:<x>"}},
		{name: "negative timeout", cfg: SMTPConfig{Addr: "smtp.example.com:25", From: "a@example.com", Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && tt.cfg.Timeout != DefaultSMTPTimeout {
				t.Errorf("Timeout = %s, want the default", tt.cfg.Timeout)
			}
			if tt.ok && tt.cfg.TLS != tt.tls {
				t.Errorf("TLS = %q, want %q", tt.cfg.TLS, tt.tls)
			}
		})
	}
}
