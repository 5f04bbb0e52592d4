package dtc

import (
	"fmt"
	"strings"
)

// Pos is a place in a source: line and column, both counted from 1; a
// column counts bytes.
type Pos struct {
	Line, Col int
}

// String renders the position as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Tree is a parsed device-tree source: the root node and, for an overlay,
// the fragments dtc made of it. Parse returns it with every reference
// resolved (an overlay's references to labels it does not define are left
// as fixups).
type Tree struct {
	// File is the name the source was parsed under, for messages.
	File string
	// Root is the root node, "/".
	Root *Node
	// Plugin reports a /plugin/ source: an overlay.
	Plugin bool

	labels map[string]*Node
}

// Label returns the node labelled name, or nil.
func (t *Tree) Label(name string) *Node { return t.labels[name] }

// Lookup returns the node at path ("/", "/soc/i2c@1000"), or nil.
func (t *Tree) Lookup(path string) *Node {
	if path == "" || path[0] != '/' {
		return nil
	}
	n := t.Root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		n = n.Child(part)
		if n == nil {
			return nil
		}
	}
	return n
}

// Node is one node of a source tree.
type Node struct {
	// Name is the node's name with its unit address ("i2c@1000"); "" for
	// the root.
	Name string
	// Labels are the labels the source gives the node, in source order.
	Labels []string
	// Props are the node's properties, in source order.
	Props []*Property
	// Children are the node's subnodes, in source order.
	Children []*Node
	// Parent is nil for the root.
	Parent *Node
	// Pos is where the node is (first) defined.
	Pos Pos
	// Phandle is the node's phandle, 0 for none: set by a phandle
	// property or assigned when something refers to the node.
	Phandle uint32

	deleted bool
}

// Path returns the node's full path, "/" for the root.
func (n *Node) Path() string {
	if n.Parent == nil {
		return "/"
	}
	if n.Parent.Parent == nil {
		return "/" + n.Name
	}
	return n.Parent.Path() + "/" + n.Name
}

// Child returns the child named name (with its unit address), or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Prop returns the property named name, or nil.
func (n *Node) Prop(name string) *Property {
	for _, p := range n.Props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Property is one property of a node.
type Property struct {
	// Name is the property's name.
	Name string
	// Value is the property's value as it would be in a blob: cells big
	// endian, strings NUL-terminated; empty for a boolean property.
	Value []byte
	// Refs are the phandle references inside Value, in order.
	Refs []Ref
	// Pos is where the property is (last) defined.
	Pos Pos

	parts []part // the value as written, until resolve
}

// Ref is a reference to a node by label or path inside a cell list: the
// 32-bit cell at Offset of the value holds the target's phandle.
type Ref struct {
	// Offset is the byte offset of the phandle cell in the value.
	Offset int
	// Label is the label referred to ("" for a reference by path).
	Label string
	// Path is the path referred to, for &{/path}.
	Path string
	// Pos is where the reference is written.
	Pos Pos
	// Target is the node referred to; nil for an overlay's fixup, a
	// label the base tree must resolve.
	Target *Node
}

// String renders the reference as written: &label or &{/path}.
func (r Ref) String() string {
	if r.Label != "" {
		return "&" + r.Label
	}
	return "&{" + r.Path + "}"
}

// Strings returns the property's value as a string list, and whether it
// is one (every byte printable, NUL-terminated pieces).
func (p *Property) Strings() ([]string, bool) { return StringList(p.Value) }

// StringList splits a value made of NUL-terminated printable strings; ok
// is false for any other value (empty included).
func StringList(v []byte) (list []string, ok bool) {
	if len(v) == 0 || v[len(v)-1] != 0 {
		return nil, false
	}
	for _, s := range strings.Split(string(v[:len(v)-1]), "\x00") {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return nil, false
			}
		}
		list = append(list, s)
	}
	return list, true
}
