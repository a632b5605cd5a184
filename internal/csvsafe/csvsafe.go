// Package csvsafe keeps the CSV files the platform writes (asset exports,
// reports) from being run by spreadsheets: a cell that a spreadsheet would
// read as a formula is written as text.
package csvsafe

// Cells returns cells with each one that begins with =, +, -, @, a tab or a
// carriage return prefixed with an apostrophe, which spreadsheets read as
// "this is text". It changes cells in place.
func Cells(cells ...string) []string {
	for i, v := range cells {
		if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
			cells[i] = "'" + v
		}
	}
	return cells
}
