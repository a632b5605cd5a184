package csvsafe

import (
	"slices"
	"testing"
)

func TestCells(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Laptop", "Laptop"},
		{"", ""},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Cells(tt.in); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("Cells(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
