package csvcell

import "testing"

func TestSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"MacBook Pro", "MacBook Pro"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1 555", "'+1 555"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"a=b", "a=b"},
		{"'quoted", "'quoted"},
		{"Zoë =1", "Zoë =1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Safe(tt.in); got != tt.want {
				t.Errorf("Safe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	row := Row("ok", "=1")
	if row[0] != "ok" || row[1] != "'=1" {
		t.Errorf("Row = %q", row)
	}
}
