package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// TestEmailSendMailAttachments sends a mail with two files through the
// same SMTP conversation alerts go through, over opportunistic TLS, and
// reads back its headers, its text and each file byte for byte.
func TestEmailSendMailAttachments(t *testing.T) {
	srv := newSMTPServer(t)
	e := newEmail(srv.addr())
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, '\n', '\r'}, 300)...)
	csv := []byte("Action,Actions\r\nauth.login,3\r\n")
	status, err := e.SendMail(context.Background(), Mail{
		ID: "0199a000-0000-7000-8000-00000000000d", To: []string{"cfo@example.com", "owner@example.com"},
		Subject:     "Weekly digest\r\nBcc: intruder@example.com",
		Text:        "Your report is attached.\n",
		Attachments: []Attachment{{Name: "digest.pdf", ContentType: "application/pdf", Body: pdf}, {Name: "digest.csv", ContentType: "text/csv; charset=utf-8", Body: csv}},
	})
	if err != nil || status != 250 {
		t.Fatalf("SendMail = %d, %v", status, err)
	}
	s := srv.session()
	if strings.Join(s.to, ",") != "cfo@example.com,owner@example.com" || s.from != "alerts@fluxera.example" {
		t.Fatalf("from %q to %v", s.from, s.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Subject"); got != "Weekly digest Bcc: intruder@example.com" {
		t.Errorf("Subject = %q: a value must stay on its one line", got)
	}
	if msg.Header.Get("Bcc") != "" {
		t.Error("the subject added a header")
	}
	for name, want := range map[string]string{
		"Message-Id": "<0199a000-0000-7000-8000-00000000000d@fluxera.example>", "Auto-Submitted": "auto-generated",
		"Date": "Sun, 01 Mar 2026 09:15:00 +0000",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	files := map[string][]byte{}
	for {
		p, err := parts.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		switch p.Header.Get("Content-Transfer-Encoding") {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, p)
		case "quoted-printable":
			r = quotedprintable.NewReader(p)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if name := p.FileName(); name != "" {
			files[name] = body
			continue
		}
		text += string(body)
	}
	if strings.ReplaceAll(text, "\r\n", "\n") != "Your report is attached.\n" {
		t.Errorf("text = %q", text)
	}
	if !bytes.Equal(files["digest.pdf"], pdf) || !bytes.Equal(files["digest.csv"], csv) || len(files) != 2 {
		t.Errorf("attachments %d: pdf intact %v, csv intact %v", len(files), bytes.Equal(files["digest.pdf"], pdf), bytes.Equal(files["digest.csv"], csv))
	}
}

// TestEmailSendMailRefusals checks that a mail without a server or a
// recipient is refused for good, as an alert's is.
func TestEmailSendMailRefusals(t *testing.T) {
	e := newEmail("127.0.0.1:1")
	if _, err := e.SendMail(context.Background(), Mail{ID: "m", Subject: "s", Text: "t"}); !IsPermanent(err) {
		t.Errorf("no recipient: %v, want permanent", err)
	}
	if _, err := e.SendMail(context.Background(), Mail{ID: "m", To: []string{"not an address"}}); !IsPermanent(err) {
		t.Errorf("a bad recipient: %v, want permanent", err)
	}
	e.Config.Addr = ""
	if _, err := e.SendMail(context.Background(), Mail{ID: "m", To: []string{"a@example.com"}}); !IsPermanent(err) {
		t.Errorf("no server: %v, want permanent", err)
	}
}
