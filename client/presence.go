package client

// Presence is another editor's caret or selection, in code points of the
// local text (Doc.Text). Anchor == Head is a caret.
type Presence struct {
	Client string // the editor's public id (Conn.PublicID)
	Name   string
	Color  string
	Anchor int
	Head   int
}

// selection is this client's own caret, in local text positions.
type selection struct {
	anchor, head int
}

func clamp(pos, n int) int {
	return max(0, min(pos, n))
}
