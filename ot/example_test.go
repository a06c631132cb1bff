package ot_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/collabd/collab/ot"
)

func mustParse(s string) ot.Op {
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		panic(err)
	}
	return op
}

func ExampleOp_Apply() {
	op := mustParse(`[5, " hé😀", -4, 2]`) // lengths count code points
	out, err := op.Apply("Hello big😀!")
	fmt.Println(out, err)
	fmt.Println(op.BaseLen(), op.TargetLen())
	_, err = op.Apply("Hello")
	fmt.Println(err)
	// Output:
	// Hello hé😀😀! <nil>
	// 11 11
	// ot: base length mismatch: op expects 11 code points, document has 5
}

func ExampleParse() {
	_, err := ot.Parse([]byte(`[1, "\ud83d"]`), ot.Limits{})
	fmt.Println(errors.Is(err, ot.ErrInvalidText))
	op, _ := ot.Parse([]byte(`[1, -2, "x", 3]`), ot.Limits{})
	fmt.Println(op) // normalised: the insert moves before the delete
	// Output:
	// true
	// [1,"x",-2,3]
}

func ExampleOp_MarshalJSON() {
	var b ot.Builder
	op := b.Retain(2).Insert("👋").Delete(1).Op()
	data, _ := json.Marshal(map[string]ot.Op{"op": op})
	fmt.Println(string(data))
	// Output: {"op":[2,"👋",-1]}
}

func ExampleCompose() {
	a := mustParse(`[3, "helo"]`) // "abc" → "abchelo"
	b := mustParse(`[6, "l", 1]`) // → "abchello"
	ab, _ := ot.Compose(a, b)
	fmt.Println(ab)
	fmt.Println(ab.Apply("abc"))
	// Output:
	// [3,"hello"]
	// abchello <nil>
}

func ExampleTransform() {
	doc := "ab"
	a := mustParse(`[1, "X", 1]`) // committed first
	b := mustParse(`[1, "Y", 1]`) // concurrent, same position
	aPrime, bPrime, _ := ot.Transform(a, b)
	x, _ := a.Apply(doc)
	x, _ = bPrime.Apply(x)
	y, _ := b.Apply(doc)
	y, _ = aPrime.Apply(y)
	fmt.Println(aPrime, bPrime, x, y)
	// Output: [1,"X",2] [2,"Y",1] aXYb aXYb
}

func ExampleOp_Invert() {
	op := mustParse(`[1, -1, "🙂", 1]`)
	doc := "a😀b"
	after, _ := op.Apply(doc)
	undo, _ := op.Invert(doc)
	back, _ := undo.Apply(after)
	fmt.Println(after, undo, back)
	// Output: a🙂b [1,"😀",-1,1] a😀b
}

func ExampleDiff() {
	op := ot.Diff("hello world 😀", "hello big world 😀")
	fmt.Println(op)
	// Output: [6,"big ",7]
}

func ExampleTransformIndex() {
	op := mustParse(`[2, "XY", 2]`)              // inserts at position 2
	fmt.Println(ot.TransformIndex(op, 2, false)) // another editor's caret there stays before
	fmt.Println(ot.TransformIndex(op, 2, true))  // the typist's own caret follows the text
	fmt.Println(ot.TransformIndex(op, 3, false))
	// Output:
	// 2
	// 4
	// 5
}

func ExampleSelection_Transform() {
	op := mustParse(`[1, "ab", 2, "cd", 1]`) // inserts at both edges of [1, 3)
	sel := ot.Selection{Anchor: 1, Head: 3}
	fmt.Println(sel.Transform(op, false)) // others' text stays outside
	fmt.Println(sel.Transform(op, true))
	// Output:
	// {3 5}
	// {3 7}
}
