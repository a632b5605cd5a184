package activity

import (
	"unicode"
	"unicode/utf8"
)

// MaxNoteLength is the most characters a note may have.
const MaxNoteLength = 2000

// ValidateLine checks a name or another one-line value given for field: it
// returns EINVALID naming field when s is not UTF-8, has more than max
// characters, or holds a control character — NUL, escape, DEL, the C1
// controls, and tab and line breaks too.
func ValidateLine(field, s string, max int) error {
	return validateText(field, s, max, false)
}

// ValidateText checks free text, such as a note or a description, given
// for field, as ValidateLine does, except that it allows tabs and line
// breaks.
func ValidateText(field, s string, max int) error {
	return validateText(field, s, max, true)
}

// ValidateNote returns EINVALID for a note that ValidateText refuses with
// MaxNoteLength.
func ValidateNote(note string) error {
	return ValidateText("note", note, MaxNoteLength)
}

func validateText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, field, "%s is not valid UTF-8 text", field)
	}
	if utf8.RuneCountInString(s) > max {
		return Errorf(EINVALID, field, "%s is longer than %d characters", field, max)
	}
	for _, r := range s {
		if !unicode.IsControl(r) || multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if multiline {
			return Errorf(EINVALID, field, "%s contains the control character %U; text may hold tabs and line breaks but no other control characters", field, r)
		}
		return Errorf(EINVALID, field, "%s contains the control character %U; it must be one line of printable text", field, r)
	}
	return nil
}
