package postgres

// LastDropped is the workspace the latest drop of s's cache named: a
// notification's payload, or a caller's workspace after its own change.
func (s *ChoiceService) LastDropped() string {
	if last := s.cache.last.Load(); last != nil {
		return *last
	}
	return ""
}
