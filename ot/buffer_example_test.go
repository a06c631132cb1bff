package ot_test

import (
	"fmt"

	"github.com/collabd/collab/ot"
)

func ExampleBuffer() {
	doc := ot.NewBuffer("hello world")

	// Replace "world" (code points 6 to 11) by "wörld 😀".
	var b ot.Builder
	op := b.Retain(6).Delete(5).Insert("wörld 😀").Op()
	if err := doc.Apply(op); err != nil {
		fmt.Println(err)
	}
	fmt.Println(doc.String(), doc.Len())
	fmt.Println(doc.Slice(6, 13))

	// An op built for another length is refused and changes nothing.
	err := doc.Apply(op)
	fmt.Println(err)
	fmt.Println(doc.String())
	// Output:
	// hello wörld 😀 13
	// wörld 😀
	// ot: base length mismatch: op expects 11 code points, document has 13
	// hello wörld 😀
}
