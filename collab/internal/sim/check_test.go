package sim

import "testing"

func TestMarkersOnce(t *testing.T) {
	markers := []string{"«A12»", "«A21»", "«B1»"}
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"each whole once", "ab«A12»é«A21»😀«B1»b", true},
		{"one split by another's insert", "a«A1«B1»2»b«A21»", true},
		{"two split", "«A«B12»1»b«A21»", true},
		{"lost", "a«A12»b«B1»", false},
		{"doubled", "«A12»«A21»«B1»«B1»", false},
		// The same code points as every marker once: counting code
		// points alone passes it.
		{"one lost, another of the same code points doubled", "«A21»a«A21»«B1»", false},
		{"a split one lost, its code points elsewhere doubled", "«A1«B1»2»«A21»«A21»", false},
	} {
		err := markersOnce(tc.text, markers)
		if (err == nil) != tc.ok {
			t.Errorf("%s: markersOnce(%q) = %v, want ok %v", tc.name, tc.text, err, tc.ok)
		}
	}
}
