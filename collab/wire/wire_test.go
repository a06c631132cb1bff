package wire

import "testing"

func TestValidColor(t *testing.T) {
	for _, c := range []string{"#d33", "#D33", "#1a7f37", "#8250DF", "#00000080", "#aBcDeF12"} {
		if !ValidColor(c) {
			t.Errorf("ValidColor(%q) = false", c)
		}
	}
	for _, c := range []string{
		"", "#", "#12", "#1234", "#12345", "#1234567", "#123456789", "d33333", "red", "#ggg", "#12345g",
		"url(//attacker.example/leak)", "#d33;background:url(x)", "#d\u00e9", "rgb(1,2,3)", "var(--x)", " #d33",
	} {
		if ValidColor(c) {
			t.Errorf("ValidColor(%q) = true", c)
		}
	}
}
