package activity_test

import (
	"errors"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
)

func TestValidateLineAndText(t *testing.T) {
	tests := []struct {
		name      string
		s         string
		multiline bool
		refused   string // a part of the refusal's message, or "" when s passes
	}{
		{"plain", "MacBook Pro A-1029", false, ""},
		{"any script and emoji", "Ноутбук 💻 ラップトップ", false, ""},
		{"format characters are not controls", "a\u200db\u202ec", false, ""},
		{"empty", "", false, ""},
		{"exactly the limit", strings.Repeat("é", 30), false, ""},
		{"over the limit", strings.Repeat("é", 31), false, "longer than 30 characters"},
		{"NUL", "a\x00b", false, "U+0000"},
		{"escape", "\x1b[31mred", false, "U+001B"},
		{"DEL", "a\x7f", false, "U+007F"},
		{"C1 control", "a\u0085b", false, "U+0085"},
		{"tab in a line", "a\tb", false, "U+0009"},
		{"newline in a line", "a\nb", false, "U+000A"},
		{"carriage return in a line", "a\rb", false, "U+000D"},
		{"not UTF-8", "a\xffb", false, "not valid UTF-8"},
		{"tab in text", "a\tb", true, ""},
		{"line breaks in text", "one\r\ntwo\nsix", true, ""},
		{"NUL in text", "one\n\x00", true, "U+0000"},
		{"bell in text", "ding\x07", true, "U+0007"},
		{"C1 control in text", "a\u009bb", true, "U+009B"},
		{"not UTF-8 in text", "\xc3(", true, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := activity.ValidateLine
			if tt.multiline {
				check = activity.ValidateText
			}
			err := check("name", tt.s, 30)
			var e *activity.Error
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (!errors.As(err, &e) || e.Code != activity.EINVALID || e.Field != "name" || !strings.Contains(e.Message, tt.refused)):
				t.Errorf("got %v, want EINVALID on name saying %q", err, tt.refused)
			}
		})
	}
	if err := activity.ValidateNote(strings.Repeat("n", activity.MaxNoteLength+1)); activity.ErrorField(err) != "note" {
		t.Errorf("an overlong note: %v", err)
	}
}
