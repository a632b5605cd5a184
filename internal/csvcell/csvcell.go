// Package csvcell keeps the cells of the CSV files the platform writes
// from being run as formulas: a spreadsheet opening a cell that begins
// with =, +, -, @, a tab or a carriage return reads it as a formula, and
// a name or a note typed by anyone would run on the reader's machine.
package csvcell

// Safe returns v with a single quote in front when a spreadsheet would
// read it as a formula, and v itself otherwise.
func Safe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// Row makes every cell of a row safe, in place, and returns it.
func Row(cells ...string) []string {
	for i, v := range cells {
		cells[i] = Safe(v)
	}
	return cells
}
