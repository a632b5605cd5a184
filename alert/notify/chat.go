package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/fluxera/activity/alert"
)

// ChatPayload is the JSON body of a chat request, the shape Slack and
// Microsoft Teams incoming webhooks take.
type ChatPayload struct {
	Text string `json:"text"`
}

// Chat posts alerts as signed chat messages (ChannelChat). The zero Chat
// is ready to use.
type Chat struct {
	// Client sends the requests; when nil, a client of the zero Policy
	// (public addresses only) with DefaultHTTPTimeout.
	Client *http.Client
	// Now stamps the signature; time.Now when nil.
	Now func() time.Time
}

// Send posts {"text": …} to d.URL, signed like a webhook, and classifies
// the answer as Webhook.Send does.
func (c *Chat) Send(ctx context.Context, d alert.Delivery) (int, error) {
	body, err := json.Marshal(ChatPayload{Text: ChatText(d.Alert)})
	if err != nil {
		return 0, Permanent(fmt.Errorf("encode chat message for alert %s: %w", d.AlertID, err))
	}
	return post(ctx, c.Client, c.Now, target(d), body)
}

// chatEscaper escapes the characters chat services read as markup, so
// that a summary cannot mention a channel or forge a link.
var chatEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// ChatText returns the chat message for a: one plain paragraph with the
// severity, the summary and the facts of the alert, ending with its id,
// and no links.
func ChatText(a alert.Alert) string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(singleLine(a.Severity)) + "] ")
	b.WriteString(sentence(singleLine(a.Summary)))
	for _, f := range alertFacts(a) {
		if f.label == "Severity" {
			continue
		}
		b.WriteString(" " + f.label + ": " + sentence(f.value))
	}
	return chatEscaper.Replace(strings.TrimSpace(b.String()))
}
