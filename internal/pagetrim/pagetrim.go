package pagetrim

// Result says what one call to [Self] did.
type Result struct {
	// Mappings is how many mappings had their pages dropped.
	Mappings int
	// Dropped is how many bytes of them were resident before.
	Dropped int64
	// Skipped is how many mappings with resident pages were left alone:
	// writable, locked, or holding private copies of pages.
	Skipped int
}
