package query

// Normalize checks v as the value of qualifier, as a filter outside the
// search text gives it, and returns it in the form events store it. Its
// error is a message for the person who gave the value.
func Normalize(qualifier, v string) (string, error) {
	return normalize(qualifier, v)
}
