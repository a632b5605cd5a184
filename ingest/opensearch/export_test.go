package opensearch

// Mappings are the index template's mappings, for tests of indices made
// with an earlier mapping.
func Mappings() map[string]any { return mappings() }
